#include "controller/tokens/token_registry.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"tokens"};

namespace hostline::controller {
namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxIdentityLength = 200;
constexpr std::int64_t kLastUsedWriteIntervalMs = 60'000;
constexpr std::string_view kSecretPrefix = "hlt_";

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != digest.size())
        std::abort();  // SHA-256 is always available in OpenSSL 3
    return digest;
}

std::string hex(const unsigned char* bytes, std::size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 15];
    }
    return out;
}

std::array<unsigned char, 32> digest_from_hex(const std::string& text) {
    std::array<unsigned char, 32> digest{};
    const auto nibble = [](char c) {
        return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
    };
    for (std::size_t i = 0; i < digest.size() && 2 * i + 1 < text.size(); ++i)
        digest[i] = static_cast<unsigned char>(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
    return digest;
}

std::string utc_time(std::int64_t ms) {
    const std::time_t seconds = ms / 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

Result<void> check_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxNameLength ||
        name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            std::string_view::npos)
        return fail("a token name is 1 to 64 letters, digits, '.', '_' or '-'");
    if (name == "admin") return fail("'admin' is the bootstrap token's name; choose another");
    return {};
}

// platform:id, such as slack:U024BE7LH or irc:alice!a@host: a lowercase platform, then an
// id of visible ASCII.
Result<void> check_identity(std::string_view identity) {
    const auto colon = identity.find(':');
    const auto platform = identity.substr(0, std::min(colon, identity.size()));
    const bool ok =
        colon != std::string_view::npos && !platform.empty() &&
        platform.find_first_not_of("abcdefghijklmnopqrstuvwxyz") == std::string_view::npos &&
        colon + 1 < identity.size() && identity.size() <= kMaxIdentityLength &&
        std::all_of(identity.begin() + static_cast<std::ptrdiff_t>(colon) + 1, identity.end(),
                    [](char c) { return c > ' ' && c < 127; });
    if (!ok)
        return fail(
            "the identity must be platform:id, such as slack:U024BE7LH or local:alice "
            "(at most 200 characters, no spaces)");
    return {};
}

bool live(const ApiTokenRecord& token, std::int64_t now) {
    return token.revoked_at_ms == 0 && (token.expires_at_ms == 0 || token.expires_at_ms > now);
}

}  // namespace

TokenRegistry::TokenRegistry(Store& store, AuditTrail& audit,
                             const std::vector<ApiTokenRecord>& tokens)
    : store_(store), audit_(audit) {
    for (const auto& token : tokens) {
        tokens_[token.name] =
            Entry{token, digest_from_hex(token.secret_sha256), token.last_used_ms};
    }
}

Result<std::string> TokenRegistry::identity_for(std::string_view secret) {
    const auto digest = sha256(secret);
    Entry* found = nullptr;
    // Every entry is compared, in constant time, whether or not one matched already.
    for (auto& [_, entry] : tokens_) {
        if (CRYPTO_memcmp(digest.data(), entry.digest.data(), digest.size()) == 0) found = &entry;
    }
    if (found == nullptr) return fail("the bearer token is not valid");
    auto& token = found->record;
    const auto now = now_ms();
    if (token.revoked_at_ms != 0)
        return fail("the token '" + token.name + "' was revoked at " +
                    utc_time(token.revoked_at_ms));
    if (token.expires_at_ms != 0 && token.expires_at_ms <= now)
        return fail("the token '" + token.name + "' expired at " + utc_time(token.expires_at_ms));
    token.last_used_ms = now;
    if (now - found->saved_last_used_ms >= kLastUsedWriteIntervalMs) {
        found->saved_last_used_ms = now;
        store_.save_token(token);
    }
    return token.identity;
}

Result<CreatedApiToken> TokenRegistry::create(const NewApiToken& request) {
    if (auto ok = check_name(request.name); !ok) return ok.error();
    if (auto ok = check_identity(request.identity); !ok) return ok.error();
    if (request.ttl_ms && *request.ttl_ms <= 0) return fail("the ttl must be longer than 0s");
    const auto now = now_ms();
    if (auto it = tokens_.find(request.name); it != tokens_.end() && live(it->second.record, now))
        return fail("a token named '" + request.name + "' exists; revoke it first");

    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) != 1) return fail("cannot make a random secret");
    CreatedApiToken created;
    created.secret = std::string(kSecretPrefix) + hex(random, sizeof random);
    const auto digest = sha256(created.secret);

    auto& token = created.token;
    token.name = request.name;
    token.identity = request.identity;
    token.created_by = request.created_by;
    token.secret_sha256 = hex(digest.data(), digest.size());
    token.created_at_ms = now;
    token.expires_at_ms = request.ttl_ms ? now + *request.ttl_ms : 0;
    tokens_[token.name] = Entry{token, digest, 0};
    store_.save_token(token);
    std::map<std::string, std::string> detail{{"identity", token.identity}};
    if (token.expires_at_ms != 0) detail["expires"] = utc_time(token.expires_at_ms);
    audit_.record({"token.created", request.created_by, "token:" + token.name, detail});
    logger->info("{} created token '{}' for {}", request.created_by, token.name, token.identity);
    return created;
}

std::vector<ApiTokenRecord> TokenRegistry::list() const {
    std::vector<ApiTokenRecord> out;
    for (const auto& [_, entry] : tokens_) out.push_back(entry.record);
    return out;
}

Result<void> TokenRegistry::revoke(const std::string& name, const std::string& by) {
    auto it = tokens_.find(name);
    if (it == tokens_.end()) return fail("there is no token named '" + name + "'");
    auto& token = it->second.record;
    if (token.revoked_at_ms != 0) return fail("the token '" + name + "' is already revoked");
    token.revoked_at_ms = now_ms();
    store_.save_token(token);
    audit_.record({"token.revoked", by, "token:" + name, {{"identity", token.identity}}});
    logger->info("{} revoked token '{}'", by, name);
    return {};
}

}  // namespace hostline::controller
