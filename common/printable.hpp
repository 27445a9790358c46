// Text from outside, fit to be quoted in an error message or a log line: printable ASCII is
// kept, every other byte shown as \xNN, and at most `max_bytes` of it, with "..." when cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hostline {

std::string printable(std::string_view text, std::size_t max_bytes = 64);

}  // namespace hostline
