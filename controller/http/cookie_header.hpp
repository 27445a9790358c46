// Reading the Cookie request header (RFC 6265, section 5.4: "name=value; name2=value2").
//
// Pure functions with no I/O, safe on any thread. The header comes from whoever connects, so
// nothing here trusts its shape: malformed pairs are skipped, never an error, because a
// browser may hold cookies of other applications on the same host that this server does not
// own and must not be refused for.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace hostline::controller::http {

using CookiePair = std::pair<std::string_view, std::string_view>;

// Every well-formed "name=value" pair of one Cookie header, in order, as views into it.
// Spaces and tabs around names and values are trimmed and a value in double quotes loses
// them; a pair without '=', with an empty name, or with a name or value holding a character
// RFC 6265 does not allow there (controls, quotes inside, ',', ';', '\\', spaces inside a
// name) is skipped.
std::vector<CookiePair> parse_cookie_header(std::string_view header);

// The values of every cookie called `name` in these Cookie headers (a client may send more
// than one header, and the same name twice when cookies of several paths or domains apply).
std::vector<std::string_view> cookie_values(const std::vector<std::string_view>& headers,
                                            std::string_view name);

}  // namespace hostline::controller::http
