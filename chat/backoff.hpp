// Waiting between tries (a reconnect, a call sent again): the delay doubles after each failure
// up to a ceiling, and each wait is drawn from the upper half of the delay, so clients that
// failed together do not come back together. One Backoff per thing being retried; not
// thread-safe (owned by one adapter, used on its thread).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace hostline::chat {

// A point in [delay / 2, delay] chosen by `random` (any 64 random bits).
inline std::chrono::milliseconds jittered(std::chrono::milliseconds delay, std::uint64_t random) {
    const auto half = delay.count() / 2;
    const auto span = static_cast<std::uint64_t>(delay.count() - half + 1);
    return std::chrono::milliseconds(half + static_cast<std::int64_t>(random % span));
}

class Backoff {
  public:
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds longest)
        : first_(first), longest_(longest), delay_(first) {}

    // The wait before the next try; the one after it will be about twice as long.
    std::chrono::milliseconds next() {
        const auto wait = jittered(delay_, random_());
        delay_ = std::min(longest_, delay_ * 2);
        return wait;
    }
    // After a success: the next failure waits the shortest again.
    void reset() { delay_ = first_; }

  private:
    std::chrono::milliseconds first_, longest_, delay_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace hostline::chat
