// Reading JSON that came from outside (Slack's frames, payloads and responses): bounded in size
// and depth, and fields read with their types checked, so hostile input becomes an Error with a
// message saying what was wrong, never an exception or a crash.
//
// Internal to hostline_chat_slack (its .cpp files include it; nothing outside does): the only
// header of the library that shows nlohmann-json. Pure functions; any thread may call them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace hostline::chat::slack {

// Slack's largest frames (an event with blocks, a block_actions payload with its message) are
// tens of kilobytes; a megabyte leaves room and still bounds what one frame can cost.
inline constexpr std::size_t kMaxJsonBytes = 1024 * 1024;
// Slack's payloads nest about ten levels deep; the bound keeps a "[[[[…" frame from costing
// recursion in the library.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text` as one JSON value; `what` names it in errors ("Socket Mode frame").
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what);

// Field readers for an object `o` (the caller checked it is one). "Required" readers fail when
// the field is missing or of another type; "optional" ones return nullopt when it is missing or
// null and fail when it has another type. Strings longer than `max_bytes` are errors.
inline constexpr std::size_t kMaxFieldBytes = 64 * 1024;
Result<std::string> required_string(const nlohmann::json& o, const char* key,
                                    std::size_t max_bytes = kMaxFieldBytes);
Result<std::optional<std::string>> optional_string(const nlohmann::json& o, const char* key,
                                                   std::size_t max_bytes = kMaxFieldBytes);
Result<std::optional<bool>> optional_bool(const nlohmann::json& o, const char* key);
// A non-negative integer that fits in int64.
Result<std::optional<std::int64_t>> optional_count(const nlohmann::json& o, const char* key);
// An object member; an error when missing or not an object.
Result<const nlohmann::json*> required_object(const nlohmann::json& o, const char* key);

}  // namespace hostline::chat::slack
