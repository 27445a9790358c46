// Finding a program the tests run (node, chromium) the way a shell would.
#pragma once

#include <string>

namespace hostline::testing {

// The first executable `name` in the directories of $PATH (/usr/bin:/bin when unset); empty
// when there is none.
std::string find_on_path(const std::string& name);

}  // namespace hostline::testing
