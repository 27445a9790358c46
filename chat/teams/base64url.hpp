// Base64url without padding (RFC 4648 §5, RFC 7515 §2), as JWTs and JWKs carry their parts.
//
// Pure functions; any thread may call them.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::teams {

std::string base64url_encode(std::string_view bytes);

// Strict: only the base64url alphabet, no '=' padding, no whitespace, and no length that
// cannot come from encoding (a remainder of one character) or leftover bits that are not zero,
// so every byte string has exactly one accepted encoding. `what` names the part in the error
// ("the token's header").
Result<std::string> base64url_decode(std::string_view text, std::string_view what);

}  // namespace hostline::chat::teams
