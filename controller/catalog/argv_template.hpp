// Internal to the catalog: one element of a `run` argv template, split into literal text and
// {param} placeholders. `{{` and `}}` stand for literal braces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hostline::controller {

struct TemplatePart {
    bool placeholder = false;
    std::string text;  // literal text, or the param's name
};

// The parts of one element, or why it is malformed ("unclosed '{'", "'{Bad}' is not a param
// name"). An empty element has no parts.
Result<std::vector<TemplatePart>> parse_template(std::string_view element);

}  // namespace hostline::controller
