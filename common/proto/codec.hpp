// Encodes and decodes wire messages (messages.hpp) as msgpack maps.
//
// decode() never throws and never trusts its input: garbage, truncated or oversized frames,
// wrong field types, unknown types and unsupported versions all come back as an Error that
// says what was wrong. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/proto/messages.hpp"

namespace hostline::proto {

std::string encode(const Message& message);

// A frame of another protocol version is refused, except an `error`: every version reads
// that one (its `speaks` is then at least its `v`), so a refusal across versions is understood.
Result<Message> decode(std::string_view frame);

// The protocol version a frame declares (its `v`), if it is a msgpack map with one: what the
// peer speaks, when decode() refused its frame for being of another version.
std::optional<std::uint64_t> declared_version(std::string_view frame);

// The `code` of the ErrorReply that answers a frame decode() refused: "unknown_type",
// "version" (another protocol version) or "malformed" (everything else).
const char* error_code_for(const Error& refusal);

// The `t` of a message, for logs.
const char* type_name(const Message& message);

}  // namespace hostline::proto
