// The web UI's login sessions: a browser that logged in with an API token (or the admin
// token) gets a random session id, sent back in the hostline_session cookie, and a random
// CSRF token it must echo in X-CSRF-Token on every change (docs/api.md, "Browser sessions").
//
// Sessions live in memory only: a restart of the controller logs every browser out. A
// session keeps the token secret it was opened with, and the Router authenticates that secret
// again on every use, so revoking or expiring the token ends its sessions at once; this class
// only keeps the secret and the clocks and knows nothing of tokens or identities.
//
// The map is keyed by the SHA-256 of the session id, so neither a lookup's timing nor a
// memory dump gives a usable id. Ids, CSRF tokens and secrets are never logged.
//
// Threads: one (the io_context thread); no locks. The clock is injected so that expiry can be
// tested without waiting.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hostline::controller::http {

struct BrowserSessionLimits {
    std::int64_t idle_ms = 12LL * 3600 * 1000;  // [http] session_idle: unused this long, it ends
    std::int64_t max_ms =
        7LL * 24 * 3600 * 1000;     // [http] session_max: it ends this long after login
    std::size_t capacity = 10'000;  // beyond it, the session idle the longest is dropped
};

// What a caller learns of a live session.
struct BrowserSession {
    std::string csrf;         // 64 hex characters
    std::string secret;       // the API or admin token it was opened with
    std::int64_t expires_ms;  // when it ends unless used again (epoch ms)
};

// A session just opened: its id goes into the cookie, and is nowhere else.
struct OpenedBrowserSession {
    std::string id;  // 64 hex characters
    BrowserSession session;
};

class BrowserSessions {
  public:
    using Clock = std::function<std::int64_t()>;  // milliseconds since the Unix epoch

    BrowserSessions(BrowserSessionLimits limits, Clock now_ms);

    // Opens a session for this token secret (which the caller has authenticated). Ids and CSRF
    // tokens are 32 bytes from OpenSSL's RAND_bytes, in hex. Sweeps expired sessions, and drops
    // the one idle longest when `capacity` are open.
    OpenedBrowserSession open(std::string secret);

    // The live session this id names, its idle time restarted; nullopt when the id names none
    // (never opened, closed, dropped, or expired: an expired one is removed here).
    std::optional<BrowserSession> use(std::string_view id);

    // Ends the session; false when the id named no live session.
    bool close(std::string_view id);

    // Removes every session past its idle timeout or its lifetime. open() and use() call it
    // at most once a minute.
    void sweep();

    std::size_t size() const { return sessions_.size(); }

    // Whether `presented` is the session's CSRF token, compared in constant time.
    static bool csrf_matches(const BrowserSession& session, std::string_view presented);

  private:
    using Key = std::array<unsigned char, 32>;  // SHA-256 of the id

    struct Entry {
        std::string csrf;
        std::string secret;
        std::int64_t opened_ms;
        std::int64_t used_ms;
    };

    bool expired(const Entry& entry, std::int64_t now) const;
    std::int64_t expires_ms(const Entry& entry) const;
    void sweep_now_and_then(std::int64_t now);

    // Constant after construction.
    const BrowserSessionLimits limits_;
    const Clock now_ms_;

    std::map<Key, Entry> sessions_;
    std::int64_t swept_ms_ = 0;
};

}  // namespace hostline::controller::http
