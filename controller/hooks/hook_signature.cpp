#include "controller/hooks/hook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <optional>

namespace hostline::controller {

namespace {

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view key, std::string_view data) {
    Digest digest{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data(),
             &size) == nullptr ||
        size != digest.size())
        std::abort();  // HMAC-SHA256 is always available in OpenSSL 3
    return digest;
}

std::optional<Digest> from_hex(std::string_view hex) {
    Digest out{};
    if (hex.size() != out.size() * 2) return std::nullopt;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const auto pair = hex.substr(i * 2, 2);
        unsigned value = 0;
        auto [ptr, ec] = std::from_chars(pair.data(), pair.data() + 2, value, 16);
        if (ec != std::errc() || ptr != pair.data() + 2) return std::nullopt;
        out[i] = static_cast<unsigned char>(value);
    }
    return out;
}

std::string to_hex(const Digest& digest) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : digest) {
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    return to_hex(hmac_sha256(key, data));
}

Result<VerifiedCall> verify_hook_signature(const HookSpec& hook, const HeaderList& headers,
                                           std::string_view body, std::int64_t now_seconds) {
    const bool github = hook.signature == HookSignature::github;
    const std::string header = github ? "X-Hub-Signature-256" : hook.header;
    const std::string prefix = github ? "sha256=" : hook.prefix;
    const auto presented = header_value(headers, header);
    if (!presented) return fail("the request has no " + header + " header");
    if (!presented->starts_with(prefix))
        return fail(header + " must be '" + prefix + "' and 64 hex digits");
    const auto claimed = from_hex(presented->substr(prefix.size()));
    if (!claimed) return fail(header + " must be '" + prefix + "' and 64 hex digits");

    std::string signed_text;
    std::string_view signed_data = body;
    if (!github && !hook.timestamp_header.empty()) {
        const auto stamp = header_value(headers, hook.timestamp_header);
        if (!stamp) return fail("the request has no " + hook.timestamp_header + " header");
        std::int64_t seconds = 0;
        auto [ptr, ec] = std::from_chars(stamp->data(), stamp->data() + stamp->size(), seconds);
        if (ec != std::errc() || ptr != stamp->data() + stamp->size() || stamp->empty())
            return fail(hook.timestamp_header + " must be seconds since 1970");
        signed_text = std::string(*stamp) + "." + std::string(body);
        signed_data = signed_text;
        // Checked after the HMAC below would leak nothing more; checked here, a stale call
        // costs no HMAC. The message does not say which side of the window it fell.
        if (seconds < now_seconds - kHookTimestampWindowSeconds ||
            seconds > now_seconds + kHookTimestampWindowSeconds)
            return fail(hook.timestamp_header + " is more than 5 minutes from the server's time");
    }
    const Digest expected = hmac_sha256(hook.secret, signed_data);
    if (CRYPTO_memcmp(expected.data(), claimed->data(), expected.size()) != 0)
        return fail("the signature in " + header + " does not match the body");

    VerifiedCall verified{to_hex(expected), ""};
    if (github) {
        const auto delivery = header_value(headers, "X-GitHub-Delivery");
        if (!delivery || delivery->empty() || delivery->size() > 200)
            return fail("the request has no X-GitHub-Delivery header");
        verified.delivery = std::string(*delivery);
    }
    return verified;
}

void ReplayMemory::remember(const std::string& key) {
    if (!keys_.insert(key).second) return;
    order_.push_back(key);
    while (order_.size() > capacity_) {
        keys_.erase(order_.front());
        order_.pop_front();
    }
}

}  // namespace hostline::controller
