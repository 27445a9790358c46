#include "chat/net/url.hpp"

#include <algorithm>
#include <charconv>

namespace hostline::chat::net {

namespace {

bool has_control_or_space(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
    });
}

// A DNS name or an IPv4 address: letters, digits, '-', '.', '_' (IDNs come as punycode).
bool is_plain_host(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
    });
}

// What may stand between '[' and ']': an IPv6 address (with an embedded IPv4 one maybe).
bool is_ipv6_literal(std::string_view s) {
    return s.find(':') != std::string_view::npos && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
           });
}

}  // namespace

std::string Url::authority() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::path() const {
    return target.substr(0, target.find('?'));
}

Result<Url> parse_url(std::string_view text) {
    // Quote what we refuse, but never a query: it may hold a token.
    const std::string shown(text.substr(0, text.find('?')));
    if (has_control_or_space(text)) return fail("URL '" + shown + "' contains spaces or controls");
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) return fail("'" + shown + "' is not a URL");
    Url url;
    for (char c : text.substr(0, scheme_end)) {
        url.scheme += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (url.scheme != "https" && url.scheme != "wss")
        return fail("URL '" + shown + "': only https:// and wss:// are supported");
    std::string_view rest = text.substr(scheme_end + 3);
    if (rest.find('#') != std::string_view::npos) return fail("URL '" + shown + "' has a fragment");
    const auto target_start = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, target_start);
    url.target =
        target_start == std::string_view::npos ? "/" : std::string(rest.substr(target_start));
    if (url.target.front() == '?') url.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos)
        return fail("URL '" + shown + "': credentials in a URL are not supported");
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return fail("URL '" + shown + "': unclosed '['");
        url.host = std::string(authority.substr(1, close - 1));
        if (!is_ipv6_literal(url.host))
            return fail("URL '" + shown + "': '[" + url.host + "]' is not an IPv6 address");
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return fail("URL '" + shown + "': junk after ']'");
            port_text = after.substr(1);
            if (port_text.empty()) return fail("URL '" + shown + "': empty port");
        }
    } else {
        const auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (!url.host.empty() && !is_plain_host(url.host))
            return fail("URL '" + shown + "': '" + url.host + "' is not a host name or address");
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            if (port_text.empty()) return fail("URL '" + shown + "': empty port");
        }
    }
    if (url.host.empty()) return fail("URL '" + shown + "' has no host");
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
            value > 65535)
            return fail("URL '" + shown + "': port must be 1-65535");
        url.port = static_cast<std::uint16_t>(value);
    }
    return url;
}

}  // namespace hostline::chat::net
