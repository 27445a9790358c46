#include "controller/agents/enrollment_tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "common/transport/curve_keys.hpp"

namespace hostline::controller {
namespace {

constexpr std::int64_t kMinTtlMs = 1000;
constexpr std::int64_t kMaxTtlMs = 30LL * 24 * 60 * 60 * 1000;
constexpr std::uint32_t kMaxUses = 10000;
constexpr std::int64_t kKeepSpentMs = 7LL * 24 * 60 * 60 * 1000;

std::string hex(const unsigned char* bytes, std::size_t size) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 15];
    }
    return out;
}

std::string sha256_hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        std::abort();  // SHA-256 is always available in OpenSSL 3
    return hex(digest, length);
}

bool label_char(char c, bool value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_' || c == '-')
        return true;
    return value && (c == ':' || c == '/' || c == '+');
}

std::string encode_labels(const std::map<std::string, std::string>& labels) {
    if (labels.empty()) return "-";
    std::string out;
    for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
    return out;
}

}  // namespace

Result<void> check_labels(const std::map<std::string, std::string>& labels) {
    if (labels.size() > 64) return fail("too many labels (at most 64)");
    for (const auto& [k, v] : labels) {
        if (k.empty() || k.size() > 64)
            return fail("label key '" + k.substr(0, 64) + "' must be 1-64 characters");
        for (char c : k)
            if (!label_char(c, false))
                return fail("label key '" + k.substr(0, 64) +
                            "' may only hold letters, digits, '.', '_' and '-'");
        if (v.size() > 128) return fail("label " + k + ": the value is over 128 characters");
        for (char c : v)
            if (!label_char(c, true))
                return fail("label " + k +
                            ": the value may only hold letters, digits and . _ - : / +");
    }
    return {};
}

EnrollmentTokens::EnrollmentTokens(std::string path) : path_(std::move(path)) {}

Result<void> EnrollmentTokens::load() {
    std::ifstream in(path_);
    if (!in) return {};
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) continue;
        std::istringstream fields(line);
        Entry e;
        std::string labels;
        if (!(fields >> e.hash >> e.grant.expires_ms >> e.grant.uses_left >> labels) ||
            e.hash.size() != 64)
            return fail(path_ + ": line " + std::to_string(number) + " is not a token");
        e.grant.id = e.hash.substr(0, 12);
        if (labels != "-") {
            std::istringstream pairs(labels);
            std::string pair;
            while (std::getline(pairs, pair, ',')) {
                auto eq = pair.find('=');
                if (eq == std::string::npos)
                    return fail(path_ + ": line " + std::to_string(number) + " has a bad label");
                e.grant.labels[pair.substr(0, eq)] = pair.substr(eq + 1);
            }
        }
        entries_.push_back(std::move(e));
    }
    return {};
}

Result<void> EnrollmentTokens::save() const {
    std::string text;
    for (const Entry& e : entries_)
        text += e.hash + " " + std::to_string(e.grant.expires_ms) + " " +
                std::to_string(e.grant.uses_left) + " " + encode_labels(e.grant.labels) + "\n";
    return transport::write_file_atomically(path_, text, 0600);
}

Result<std::pair<std::string, TokenGrant>> EnrollmentTokens::create(
    std::map<std::string, std::string> labels, std::int64_t ttl_ms, std::uint32_t uses,
    std::int64_t now_ms) {
    if (auto ok = check_labels(labels); !ok) return ok.error();
    if (ttl_ms < kMinTtlMs || ttl_ms > kMaxTtlMs)
        return fail("the token's lifetime must be between 1 second and 30 days");
    if (uses < 1 || uses > kMaxUses) return fail("uses must be between 1 and 10000");
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1) return fail("no randomness for the token secret");
    std::string secret = hex(random, sizeof random);
    OPENSSL_cleanse(random, sizeof random);
    // Tokens spent or expired for a week are forgotten.
    std::erase_if(entries_, [&](const Entry& e) {
        return (e.grant.uses_left == 0 || e.grant.expires_ms <= now_ms) &&
               e.grant.expires_ms + kKeepSpentMs < now_ms;
    });
    Entry e{sha256_hex(secret), TokenGrant{{}, now_ms + ttl_ms, uses, std::move(labels)}};
    e.grant.id = e.hash.substr(0, 12);
    entries_.push_back(e);
    if (auto saved = save(); !saved) {
        entries_.pop_back();
        return saved.error();
    }
    return std::pair{secret, e.grant};
}

Result<TokenGrant> EnrollmentTokens::redeem(const std::string& secret, std::int64_t now_ms) {
    std::string hash = sha256_hex(secret);
    for (Entry& e : entries_) {
        if (CRYPTO_memcmp(e.hash.data(), hash.data(), hash.size()) != 0) continue;
        if (e.grant.uses_left == 0) return fail("the enrollment token was already used");
        if (e.grant.expires_ms <= now_ms) return fail("the enrollment token has expired");
        --e.grant.uses_left;
        if (auto saved = save(); !saved) {
            ++e.grant.uses_left;
            return fail("the controller cannot record the token's use: " + saved.error().message);
        }
        return e.grant;
    }
    return fail("the enrollment token is not known to this controller");
}

}  // namespace hostline::controller
