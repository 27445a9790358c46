#include "chat/slack/request_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cstdint>

#include "chat/slack/json_input.hpp"

namespace hostline::chat::slack {
namespace {

constexpr std::string_view kVersion = "v0=";
constexpr std::size_t kDigestBytes = 32;

// Lower-case hex of `text`, or empty when it is not 64 hex digits.
std::string normalised_hex(std::string_view text) {
    if (text.size() != 2 * kDigestBytes) return {};
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    }
    return out;
}

}  // namespace

Result<void> verify_signature(std::string_view signing_secret, const SignedRequest& request,
                              std::chrono::system_clock::time_point now) {
    if (signing_secret.empty()) return fail("no Slack signing secret is configured");
    if (request.timestamp.empty()) return fail("missing X-Slack-Request-Timestamp");
    if (request.signature.empty()) return fail("missing X-Slack-Signature");
    std::int64_t ts = 0;
    const auto* ts_end = request.timestamp.data() + request.timestamp.size();
    const auto [ptr, ec] = std::from_chars(request.timestamp.data(), ts_end, ts);
    if (request.timestamp.size() > 12 || ec != std::errc() || ptr != ts_end || ts < 0) {
        return fail("X-Slack-Request-Timestamp is not a Unix time in seconds");
    }
    const auto now_s =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::int64_t skew = now_s > ts ? now_s - ts : ts - now_s;
    if (skew > kSignatureWindow.count()) {
        return fail("X-Slack-Request-Timestamp is " + std::to_string(skew) +
                    " s from now, more than " + std::to_string(kSignatureWindow.count()) +
                    " s: a stale or replayed request");
    }
    if (!request.signature.starts_with(kVersion)) {
        return fail("X-Slack-Signature is not a v0 signature");
    }
    const std::string given = normalised_hex(request.signature.substr(kVersion.size()));
    if (given.empty()) return fail("X-Slack-Signature is not v0= and 64 hex digits");

    std::string base = "v0:";
    base += request.timestamp;
    base += ':';
    base += request.body;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (HMAC(EVP_sha256(), signing_secret.data(), static_cast<int>(signing_secret.size()),
             reinterpret_cast<const unsigned char*>(base.data()), base.size(), digest,
             &digest_length) == nullptr ||
        digest_length != kDigestBytes) {
        return fail("could not compute HMAC-SHA256");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string expected;
    for (unsigned int i = 0; i < digest_length; ++i) {
        expected += kHex[digest[i] >> 4];
        expected += kHex[digest[i] & 0xF];
    }
    if (CRYPTO_memcmp(expected.data(), given.data(), expected.size()) != 0) {
        return fail("X-Slack-Signature does not match the body: not signed with our secret");
    }
    return {};
}

Result<std::string> url_verification_challenge(std::string_view body) {
    auto parsed = parse_json(body, "url_verification body");
    if (!parsed) return parsed.error();
    if (!parsed->is_object()) return fail("url_verification body is not a JSON object");
    auto type = required_string(*parsed, "type", 64);
    if (!type) return fail("url_verification body: " + type.error().message);
    if (*type != "url_verification") {
        return fail("body of type \"" + *type + "\", not url_verification");
    }
    // Slack's challenges are ~50 printable characters; they are echoed back, so nothing that
    // could change the meaning of the response (control characters) is accepted.
    auto challenge = required_string(*parsed, "challenge", 1024);
    if (!challenge) return fail("url_verification body: " + challenge.error().message);
    if (challenge->empty()) return fail("url_verification body: the challenge is empty");
    for (const char c : *challenge) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            return fail("url_verification body: the challenge has control characters");
        }
    }
    return std::move(*challenge);
}

}  // namespace hostline::chat::slack
