#include "controller/http/cookie_header.hpp"

#include <algorithm>

namespace hostline::controller::http {
namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

// RFC 6265 cookie-octet: visible US-ASCII without '"', ',', ';' and '\\'.
bool is_cookie_octet(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

// RFC 7230 token: visible US-ASCII without separators.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={} \t";
    return u > 0x20 && u < 0x7f && kSeparators.find(c) == std::string_view::npos;
}

}  // namespace

std::vector<CookiePair> parse_cookie_header(std::string_view header) {
    std::vector<CookiePair> pairs;
    while (!header.empty()) {
        const auto end = std::min(header.find(';'), header.size());
        const auto pair = header.substr(0, end);
        header.remove_prefix(std::min(end + 1, header.size()));
        const auto equals = pair.find('=');
        if (equals == std::string_view::npos) continue;
        const auto name = trim(pair.substr(0, equals));
        auto value = trim(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char) ||
            !std::all_of(value.begin(), value.end(), is_cookie_octet))
            continue;
        pairs.emplace_back(name, value);
    }
    return pairs;
}

std::vector<std::string_view> cookie_values(const std::vector<std::string_view>& headers,
                                            std::string_view name) {
    std::vector<std::string_view> values;
    for (const auto header : headers)
        for (const auto& [cookie, value] : parse_cookie_header(header))
            if (cookie == name) values.push_back(value);
    return values;
}

}  // namespace hostline::controller::http
