// Reads an HTTP Retry-After header (RFC 9110 §10.2.3) into how long to wait: the one reading
// the Slack and the Teams adapters share, so both honour a 429 or a 503 alike.
//
// The header is either delay-seconds ("120") or an HTTP-date (§5.6.7): the preferred
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") or one of the two obsolete forms a recipient
// must still accept, rfc850-date ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime-date
// ("Sun Nov  6 08:49:37 1994"). A date is measured from `now`, the caller's wall clock, so
// tests pass a fixed one.
//
// Pure functions: any thread.
#pragma once

#include <chrono>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::net {

// The wait the header asks for: its seconds, or the time from `now` to its date rounded up to
// whole seconds (so nothing is sent before the date), zero for a date already past. Absurdly
// large numbers are held at about 31 years rather than overflow; the caller caps.
// Error: empty, neither form, or a date that does not exist (31 Feb, 25:00); the message
// says which, without echoing the header.
Result<std::chrono::seconds> parse_retry_after(std::string_view header,
                                               std::chrono::system_clock::time_point now);

struct RetryAfterBounds {
    std::chrono::seconds fallback{1};       // when the header is missing or unreadable
    std::chrono::seconds longest{15 * 60};  // a longer wait is cut to this
};

// What to wait after an answer carrying this header (or "" for none): parse_retry_after's
// answer capped at bounds.longest, or bounds.fallback when it has none. A broken or hostile
// header can therefore neither silence the bot for days nor make it retry in a tight loop
// (unless it says "0", which is the server's to say).
std::chrono::seconds retry_after_wait(std::string_view header,
                                      std::chrono::system_clock::time_point now,
                                      RetryAfterBounds bounds = {});

}  // namespace hostline::chat::net
