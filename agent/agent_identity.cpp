#include "agent/agent_identity.hpp"

#include <regex>

namespace hostline::agent {

bool is_valid_agent_name(const std::string& name) {
    static const std::regex kName("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    return std::regex_match(name, kName);
}

bool is_valid_label(const std::string& key, const std::string& value) {
    return is_valid_agent_name(key) && !value.empty() &&
           value.find_first_of(",&!=()@ ") == std::string::npos;
}

}  // namespace hostline::agent
