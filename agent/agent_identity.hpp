// What names an agent to the controller: its name and its labels, whether agent.toml or the
// enrollment (enrollment_file.hpp) gives them. Names become key file names on the controller
// and labels are matched by target expressions, so both are plain words. Thread-safe.
#pragma once

#include <string>

namespace hostline::agent {

inline constexpr const char* kAgentNameRule =
    "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
inline constexpr const char* kLabelRule =
    "label keys and values must be plain words (no , & ! = ( ) @ or spaces)";

bool is_valid_agent_name(const std::string& name);
bool is_valid_label(const std::string& key, const std::string& value);

}  // namespace hostline::agent
