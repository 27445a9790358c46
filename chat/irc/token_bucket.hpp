// Client-side flood control for outgoing IRC lines: a burst of lines may go at once, then
// one line every 1/rate seconds. Servers kill clients that flood (RFC 1459 §8.10: 2 s
// penalty per message, 10 s allowance; ngircd throttles past ~3 commands/s).
//
// Time is passed in, never read, so behaviour is deterministic and tests need no sleeping.
// Not thread-safe: owned by the adapter's connection, used from its strand only.
#pragma once

#include <chrono>

namespace hostline::chat::irc {

class TokenBucket {
  public:
    using Clock = std::chrono::steady_clock;

    // `rate_per_sec` lines per second once the burst is spent (must be > 0, finite);
    // `burst` lines allowed back to back from a full bucket (values below 1 count as 1).
    // The bucket starts full. Aborts on a rate that is not positive: that is a
    // configuration bug that must be rejected before it gets here.
    TokenBucket(double rate_per_sec, double burst);

    // Takes a token and returns true when a line may be sent at `now`; returns false,
    // taking nothing, otherwise. `now` comes from a steady clock; were it to go backwards,
    // that would only delay the next line, never allow an extra one.
    bool try_take(Clock::time_point now);

    // How long after `now` the next try_take will succeed; zero when it would now.
    Clock::duration wait_for_next(Clock::time_point now) const;

  private:
    // Generic cell rate algorithm: integer time arithmetic, so exact and drift-free.
    // Constant after construction:
    Clock::duration interval_;   // time one token takes to refill
    Clock::duration tolerance_;  // (burst - 1) * interval_: how far ahead of time we may run
    // The time at which the bucket would be full again; in the past means full.
    Clock::time_point full_at_ = Clock::time_point::min();
};

}  // namespace hostline::chat::irc
