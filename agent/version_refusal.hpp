// What to tell a person when the controller and this agent speak different protocol
// versions: the controller answered error{version}, or its own frames are of another version
// (ControllerLink hands those on as such an error). docs/protocol.md, "Versions".
#pragma once

#include <string>

#include "common/proto/messages.hpp"

namespace hostline::agent {

// One sentence naming both versions and what to install, e.g. "the controller at
// tcp://ctl:7420 speaks protocol version 2 and this agent (hostline-agent 0.1.0) version 1:
// install the hostline-agent package of the controller's release on this host".
std::string version_refusal(const proto::ErrorReply& refusal, const std::string& endpoint);

}  // namespace hostline::agent
