// What admins do with agents' keys (docs/agents.md): enrollment tokens, accepting a pending
// agent, revoking one. The HTTP API and the chat service reach enrollment through this
// facade. Called on the controller's io_context thread only; every call answers at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace hostline::controller {

struct TokenRequest {
    std::map<std::string, std::string> labels;  // given to every agent enrolled with it
    std::int64_t ttl_ms = 60 * 60 * 1000;
    std::uint32_t uses = 1;
    std::string actor;  // who asks ("token:admin", "irc:alice")
};

struct CreatedToken {
    std::string token;  // the one-line token; shown once, only its secret's hash is kept
    std::string id;     // a short name for it in logs and the audit trail
    std::int64_t expires_ms = 0;
    std::uint32_t uses = 0;
    std::map<std::string, std::string> labels;
};

struct AgentKeyView {
    std::string name;
    std::string state;  // "accepted", "pending", "revoked"
    std::string fingerprint;
};

class AgentAdmin {
  public:
    virtual ~AgentAdmin() = default;
    // Errors: labels, ttl or uses out of range; the token file cannot be written.
    virtual Result<CreatedToken> create_token(const TokenRequest& request) = 0;
    // Every key the controller knows of: accepted, pending and revoked.
    virtual std::vector<AgentKeyView> agent_keys() = 0;
    // Accepts the key pending under name. Errors: nothing pending under that name.
    virtual Result<AgentKeyView> accept(const std::string& name, const std::string& actor) = 0;
    // Revokes the key of name: its connection is cut off, its running runs become lost, and the
    // key is refused at the handshake from now on. Errors: no such agent.
    virtual Result<AgentKeyView> revoke(const std::string& name, const std::string& actor) = 0;
};

}  // namespace hostline::controller
