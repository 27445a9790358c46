#include "chat/net/http_header.hpp"

#include <algorithm>
#include <string_view>

namespace hostline::chat::net {

namespace {

bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

}  // namespace

Result<void> check_header(const std::string& name, const std::string& value) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
        return fail("header name '" + name + "' is not a valid HTTP token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        return fail("the value of header '" + name + "' contains CR, LF or NUL");
    return {};
}

}  // namespace hostline::chat::net
