// How a webhook call proves it comes from the hook's sender: an HMAC-SHA256 of the raw body
// under the hook's shared secret (docs/webhooks.md), and the memory that refuses a replay.
//
//   github  X-Hub-Signature-256: sha256=<hex>   over the body; X-GitHub-Delivery required
//   header  <header>: <prefix><hex>              over the body, or over "TIMESTAMP.BODY" when
//           the hook has a timestamp_header (then the timestamp must be within 5 minutes)
//
// The signature is checked in constant time (CRYPTO_memcmp) before anything reads the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "controller/hooks/hook_spec.hpp"
#include "controller/jobs/webhook_desk.hpp"

namespace hostline::controller {

inline constexpr std::int64_t kHookTimestampWindowSeconds = 5 * 60;

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// What a verified call is remembered by, so that it is refused if it comes again.
struct VerifiedCall {
    std::string signature;  // the hex HMAC, lowercase
    std::string delivery;   // github: X-GitHub-Delivery; header hooks: ""
};

// Ok when the call carries a valid signature for hook; the error says what is wrong with
// it (missing header, wrong form, mismatch, stale timestamp), for a 401. now_seconds is the
// time since 1970, for the timestamp window.
Result<VerifiedCall> verify_hook_signature(const HookSpec& hook, const HeaderList& headers,
                                           std::string_view body, std::int64_t now_seconds);

// The most recent `capacity` keys seen; older ones are forgotten first.
class ReplayMemory {
  public:
    explicit ReplayMemory(std::size_t capacity = 10000) : capacity_(capacity) {}
    bool seen(const std::string& key) const { return keys_.count(key) != 0; }
    void remember(const std::string& key);
    std::size_t size() const { return order_.size(); }

  private:
    std::size_t capacity_;
    std::set<std::string> keys_;
    std::deque<std::string> order_;  // oldest first
};

}  // namespace hostline::controller
