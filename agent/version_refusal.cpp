#include "agent/version_refusal.hpp"

namespace hostline::agent {

std::string version_refusal(const proto::ErrorReply& refusal, const std::string& endpoint) {
    const std::string ours = std::to_string(proto::kVersion);
    const std::string agent = "this agent (hostline-agent " HOSTLINE_VERSION ")";
    // A controller that does not say which version it speaks (or says ours, which it refused).
    if (refusal.speaks == 0 || refusal.speaks == static_cast<std::uint32_t>(proto::kVersion))
        return "the controller at " + endpoint + " does not accept protocol version " + ours +
               ", which " + agent + " speaks (it said: " + refusal.message +
               "): install the hostline-agent package of the controller's release on this host";
    const std::string head = "the controller at " + endpoint + " speaks protocol version " +
                             std::to_string(refusal.speaks) + " and " + agent + " version " + ours +
                             ": ";
    if (refusal.speaks > static_cast<std::uint32_t>(proto::kVersion))
        return head + "install the hostline-agent package of the controller's release on this host";
    return head + "upgrade the controller to this agent's release (hostline-controller " +
           HOSTLINE_VERSION +
           "), or install the hostline-agent package of the controller's "
           "release on this host";
}

}  // namespace hostline::agent
