#include "common/duration.hpp"

#include <array>
#include <cstdint>

namespace hostline {

namespace {

struct Unit {
    std::string_view name;
    std::int64_t ms;
};

// Largest first: the order parse_duration requires and format_duration writes.
constexpr std::array<Unit, 5> kUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// How much of a bad input an error quotes.
constexpr std::size_t kMaxQuoted = 32;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Error bad(std::string_view text, const std::string& what) {
    std::string shown(text.substr(0, kMaxQuoted));
    if (text.size() > kMaxQuoted) shown += "...";
    return fail("duration '" + shown + "': " + what);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
    if (text.empty()) return bad(text, "empty; say e.g. 30s or 5m");
    if (text.front() == '-') return bad(text, "must not be negative");
    if (text.find_first_not_of("0123456789") == std::string_view::npos) {
        if (text.size() > kMaxQuoted) return bad(text, "no unit (ms, s, m, h or d)");
        return bad(text, "no unit; say " + std::string(text) + "s, not " + std::string(text));
    }

    const std::int64_t max = kMaxDuration.count();
    const std::string too_long = "longer than 10 years";
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (!is_digit(text[pos]))
            return bad(text, "expected a number at column " + std::to_string(pos + 1) +
                                 ", found '" + std::string(1, text[pos]) + "'");
        std::size_t number_start = pos;
        std::int64_t value = 0;
        bool overflow = false;
        for (; pos < text.size() && is_digit(text[pos]); ++pos) {
            value = value * 10 + (text[pos] - '0');
            if (value > max) {
                overflow = true;
                value = max + 1;  // keep accumulating without overflowing int64
            }
        }
        std::string_view number = text.substr(number_start, pos - number_start);

        std::size_t unit_start = pos;
        while (pos < text.size() && is_letter(text[pos])) ++pos;
        std::string_view unit_name = text.substr(unit_start, pos - unit_start);
        if (unit_name.empty()) {
            if (pos == text.size())
                return bad(text, "'" + std::string(number) + "' has no unit (ms, s, m, h or d)");
            return bad(text, "unexpected '" + std::string(1, text[pos]) + "' at column " +
                                 std::to_string(pos + 1));
        }
        std::size_t unit = 0;
        while (unit < kUnits.size() && kUnits[unit].name != unit_name) ++unit;
        if (unit == kUnits.size())
            return bad(text,
                       "unknown unit '" + std::string(unit_name) + "' (use ms, s, m, h or d)");
        if (unit < next_unit)
            return bad(text, "units must go from largest to smallest, each once (e.g. 1h30m)");
        next_unit = unit + 1;

        if (overflow || value > (max - total) / kUnits[unit].ms) return bad(text, too_long);
        total += value * kUnits[unit].ms;
    }
    return std::chrono::milliseconds{total};
}

std::string format_duration(std::chrono::milliseconds d) {
    if (d.count() == 0) return "0s";
    std::string out;
    // The magnitude as unsigned, so that milliseconds::min() has one too.
    auto rest = static_cast<std::uint64_t>(d.count());
    if (d.count() < 0) {
        out = "-";
        rest = ~rest + 1;
    }
    for (const Unit& unit : kUnits) {
        auto size = static_cast<std::uint64_t>(unit.ms);
        if (rest < size) continue;
        out += std::to_string(rest / size);
        out += unit.name;
        rest %= size;
    }
    return out;
}

}  // namespace hostline
