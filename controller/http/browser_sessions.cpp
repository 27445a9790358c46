#include "controller/http/browser_sessions.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>
#include <utility>
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"http"};

namespace hostline::controller::http {
namespace {

constexpr std::int64_t kSweepIntervalMs = 60'000;

std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != digest.size()) {
        logger->critical("SHA-256 failed in OpenSSL");
        std::abort();
    }
    return digest;
}

// 32 random bytes in lowercase hex. OpenSSL's generator failing means the process cannot make
// anything secret; there is nothing sensible to carry on with.
std::string random_hex() {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        logger->critical("OpenSSL RAND_bytes failed: no random bytes for a browser session");
        std::abort();
    }
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        text += kHex[b >> 4];
        text += kHex[b & 0x0f];
    }
    return text;
}

}  // namespace

BrowserSessions::BrowserSessions(BrowserSessionLimits limits, Clock now_ms)
    : limits_(limits), now_ms_(std::move(now_ms)) {}

OpenedBrowserSession BrowserSessions::open(std::string secret) {
    const auto now = now_ms_();
    sweep_now_and_then(now);
    if (limits_.capacity > 0 && sessions_.size() >= limits_.capacity) {
        const auto idlest = std::min_element(
            sessions_.begin(), sessions_.end(),
            [](const auto& a, const auto& b) { return a.second.used_ms < b.second.used_ms; });
        sessions_.erase(idlest);
    }
    OpenedBrowserSession opened{random_hex(), {random_hex(), std::move(secret), 0}};
    Entry entry{opened.session.csrf, opened.session.secret, now, now};
    opened.session.expires_ms = expires_ms(entry);
    sessions_[sha256(opened.id)] = std::move(entry);
    return opened;
}

std::optional<BrowserSession> BrowserSessions::use(std::string_view id) {
    const auto now = now_ms_();
    sweep_now_and_then(now);
    const auto it = sessions_.find(sha256(id));
    if (it == sessions_.end()) return std::nullopt;
    if (expired(it->second, now)) {
        sessions_.erase(it);
        return std::nullopt;
    }
    it->second.used_ms = now;
    return BrowserSession{it->second.csrf, it->second.secret, expires_ms(it->second)};
}

bool BrowserSessions::close(std::string_view id) {
    return sessions_.erase(sha256(id)) > 0;
}

void BrowserSessions::sweep() {
    const auto now = now_ms_();
    swept_ms_ = now;
    std::erase_if(sessions_, [&](const auto& item) { return expired(item.second, now); });
}

void BrowserSessions::sweep_now_and_then(std::int64_t now) {
    if (now - swept_ms_ >= kSweepIntervalMs) sweep();
}

bool BrowserSessions::expired(const Entry& entry, std::int64_t now) const {
    return now >= expires_ms(entry);
}

std::int64_t BrowserSessions::expires_ms(const Entry& entry) const {
    return std::min(entry.used_ms + limits_.idle_ms, entry.opened_ms + limits_.max_ms);
}

bool BrowserSessions::csrf_matches(const BrowserSession& session, std::string_view presented) {
    // The length is no secret (always 64); only equal lengths reach the constant-time compare.
    return !session.csrf.empty() && presented.size() == session.csrf.size() &&
           CRYPTO_memcmp(presented.data(), session.csrf.data(), presented.size()) == 0;
}

}  // namespace hostline::controller::http
