// What `fault_writer TAG LINES DELAY_US` prints, computed the same way by the tests that
// check what was stored: both include this header, so they cannot drift apart.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace hostline::faults {

// "TAG 000123 " + kLinePayload letters and digits + "\n".
inline constexpr std::size_t kLinePayload = 100;

// Line `number` (0-based). The payload depends on the tag and the number, so every line of
// every run differs: a duplicated, missing, reordered or foreign line cannot pass for another.
inline std::string writer_line(std::string_view tag, std::uint64_t number) {
    std::uint64_t state = 1469598103934665603ull;  // FNV-1a of the tag, then the number
    for (unsigned char ch : tag) state = (state ^ ch) * 1099511628211ull;
    state ^= number * 0x9e3779b97f4a7c15ull;
    char head[32];
    std::snprintf(head, sizeof head, " %06llu ", static_cast<unsigned long long>(number));
    std::string line(tag);
    line += head;
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (std::size_t i = 0; i < kLinePayload; ++i) {
        state += 0x9e3779b97f4a7c15ull;  // splitmix64
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        line += kAlphabet[(z ^ (z >> 31)) % kAlphabet.size()];
    }
    line += '\n';
    return line;
}

inline std::string writer_output(std::string_view tag, std::uint64_t lines) {
    std::string out;
    for (std::uint64_t i = 0; i < lines; ++i) out += writer_line(tag, i);
    return out;
}

// The number of a line the writer printed for this tag (without its newline), or nothing
// if the line is not one of them.
inline std::optional<std::uint64_t> writer_line_number(std::string_view tag,
                                                       std::string_view line) {
    if (line.size() != tag.size() + 8 + kLinePayload || line.substr(0, tag.size()) != tag)
        return std::nullopt;
    std::uint64_t number = 0;
    for (char ch : line.substr(tag.size() + 1, 6)) {
        if (ch < '0' || ch > '9') return std::nullopt;
        number = number * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    std::string expected = writer_line(tag, number);
    expected.pop_back();
    if (line != expected) return std::nullopt;
    return number;
}

}  // namespace hostline::faults
