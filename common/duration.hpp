// Durations as people write them in config and chat: "30s", "10m", "1h30m", "250ms", "1d".
//
// Pure functions, safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline {

// The longest duration parse_duration accepts: ten years of 365 days.
inline constexpr std::chrono::milliseconds kMaxDuration{std::chrono::days{3650}};

// One or more <digits><unit> parts, units ms, s, m, h, d, each at most once and largest first:
// "1h30m", "250ms", "0s". No signs, spaces, fractions or bare numbers ("say 30s, not 30").
// Errors name the input and what was wrong: empty input, a negative, a missing or unknown
// unit, units out of order, or a total over kMaxDuration.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The canonical form parse_duration reads back exactly: each unit from d down to ms that is
// not zero, largest first ("1m30s", "250ms", "1d2h"); zero is "0s", a negative gets a '-'.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace hostline
