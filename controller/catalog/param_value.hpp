// Internal to the catalog: checking one parameter value, shared by Catalog::load (defaults)
// and bind (what people type). The only code that calls std::regex.
#pragma once

#include <regex>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "controller/catalog/command_spec.hpp"

namespace hostline::controller {

// Values longer than this are refused.
inline constexpr std::size_t kMaxValueBytes = 4096;

// An ECMAScript regex, or the reason it is not one.
Result<std::regex> compile_pattern(const std::string& pattern);

// True when text holds a C0 control character (NUL included), DEL, or a UTF-8 C1 control.
bool has_control_characters(std::string_view text);

// The value in its canonical form (integers as decimal; others as given), or an error whose
// message completes "--name ..." or "default ...": "must be an integer, not 'ten'".
Result<std::string> check_value(const ParamSpec& param, std::string_view text);

}  // namespace hostline::controller
