#include "common/percent_encoding.hpp"

#include <charconv>

namespace hostline {

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] != '%') {
            out += text[i];
        } else {
            unsigned value = 0;
            if (i + 2 >= text.size()) return std::nullopt;
            const auto hex = text.substr(i + 1, 2);
            const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
            if (ec != std::errc() || ptr != hex.data() + 2) return std::nullopt;
            out += static_cast<char>(value);
            i += 2;
        }
    }
    return out;
}

}  // namespace hostline
