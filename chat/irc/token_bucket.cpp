#include "chat/irc/token_bucket.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace hostline::chat::irc {
namespace {

// Rounds up so the configured rate is never exceeded; capped at ~31 years so that absurd
// configurations cannot overflow the clock's integer representation.
TokenBucket::Clock::duration seconds_ceil(double seconds) {
    constexpr double kMaxSeconds = 1e9;
    return std::chrono::ceil<TokenBucket::Clock::duration>(
        std::chrono::duration<double>(std::min(seconds, kMaxSeconds)));
}

}  // namespace

TokenBucket::TokenBucket(double rate_per_sec, double burst) {
    if (!(rate_per_sec > 0) || !std::isfinite(rate_per_sec) || std::isnan(burst)) std::abort();
    interval_ = std::max(seconds_ceil(1.0 / rate_per_sec), Clock::duration(1));
    tolerance_ = seconds_ceil((std::max(burst, 1.0) - 1.0) / rate_per_sec);
}

bool TokenBucket::try_take(Clock::time_point now) {
    if (wait_for_next(now) > Clock::duration::zero()) return false;
    full_at_ = std::max(full_at_, now) + interval_;
    return true;
}

TokenBucket::Clock::duration TokenBucket::wait_for_next(Clock::time_point now) const {
    // Sending now would move full_at_ to max(full_at_, now) + interval_; it may run at most
    // tolerance_ + interval_ ahead of now.
    if (full_at_ <= now) return Clock::duration::zero();
    const auto ahead = full_at_ - now;
    return ahead > tolerance_ ? ahead - tolerance_ : Clock::duration::zero();
}

}  // namespace hostline::chat::irc
