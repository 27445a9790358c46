// Checks a header a caller hands to HttpsClient or WssClient before it goes on the wire.
#pragma once

#include <string>

#include "common/error.hpp"

namespace hostline::chat::net {

// Error: the name is not an HTTP token, or the value holds CR, LF or NUL (which would let it
// add headers of its own). The message names the header, never its value.
Result<void> check_header(const std::string& name, const std::string& value);

}  // namespace hostline::chat::net
