// application/x-www-form-urlencoded, as query strings and form bodies carry it: "%XX" escapes
// and '+' for a space.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hostline {

// The decoded text; nullopt for a malformed escape ("%", "%4", "%zz").
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace hostline
