// The webhook templates: "{{pusher.name}} pushed {{commits.length}} commit(s)" rendered
// against a JSON body. Small and strict on purpose (docs/webhooks.md):
//   {{a.b.c}}    a dotted path into the body; a number segment indexes an array (a.0.b)
//   .length      as the last segment, the length of an array or string (or an object's
//                member named "length", if it has one)
// A value is inserted as plain text: strings as they are, numbers and booleans printed,
// null as "". An unknown path, or a path naming an object or array, is an error, so a
// misconfigured hook is noticed instead of posting half a message. Control characters
// (newlines included) are stripped from the result, which is capped at max_chars bytes.
//
// Pure functions: safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace hostline::controller {

inline constexpr std::size_t kHookTextCap = 2000;

// Whether the template is well formed ({{ and }} paired, paths non-empty, no stray braces
// inside); checked when the config is read.
Result<void> check_hook_template(std::string_view text);

// The template with every {{path}} replaced by its value in body.
Result<std::string> render_hook_template(std::string_view text, const nlohmann::json& body,
                                         std::size_t max_chars = kHookTextCap);

}  // namespace hostline::controller
