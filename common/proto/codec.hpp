// Encodes and decodes wire messages (messages.hpp) as msgpack maps.
//
// decode() never throws and never trusts its input: garbage, truncated or oversized frames,
// wrong field types, unknown types and unsupported versions all come back as an Error that
// says what was wrong. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/proto/messages.hpp"

namespace hostline::proto {

std::string encode(const Message& message);

Result<Message> decode(std::string_view frame);

// The `code` of the ErrorReply that answers a frame decode() refused: "unknown_type",
// "version" (another protocol version) or "malformed" (everything else).
const char* error_code_for(const Error& refusal);

// The `t` of a message, for logs.
const char* type_name(const Message& message);

}  // namespace hostline::proto
