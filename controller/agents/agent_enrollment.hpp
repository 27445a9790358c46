// Agent enrollment on the controller (docs/agents.md): answers agents whose key is not
// accepted (a hello makes the key pending; an enroll with a valid token accepts it), and
// carries out the admin's token, accept and revoke requests. Every enrollment, pending key,
// acceptance and revocation is reported to the audit trail.
//
// Threads: io_context thread only (the transport thread posts strangers' messages here).
// The scheduler never hears of a key that is not accepted: the transport hands it only
// messages from accepted keys.
#pragma once

#include <functional>
#include <string>

#include "common/proto/messages.hpp"
#include "common/transport/router_thread.hpp"
#include "controller/agents/enrollment_tokens.hpp"
#include "controller/agents/key_directory.hpp"
#include "controller/jobs/agent_admin.hpp"
#include "controller/jobs/audit_trail.hpp"

namespace hostline::controller {

class AgentEnrollment : public AgentAdmin {
  public:
    struct Links {
        // Answers a connection whose key is not accepted.
        std::function<void(const transport::Stranger&, proto::Message)> reply;
        // Sends to an accepted agent by name (used to tell a revoked agent why it is cut off).
        std::function<void(const std::string& agent, proto::Message)> send;
        // Forgets a revoked agent as a host (Scheduler::revoke_agent).
        std::function<void(const std::string& agent)> revoked;
    };

    // endpoint and controller_key go into every token: where agents connect, and the key
    // they check the controller by.
    AgentEnrollment(KeyDirectory& keys, EnrollmentTokens& tokens, AuditTrail& audit, Links links,
                    std::string endpoint, std::string controller_key);

    void on_stranger(const transport::Stranger& from, proto::Message message);

    // AgentAdmin
    Result<CreatedToken> create_token(const TokenRequest& request) override;
    std::vector<AgentKeyView> agent_keys() override;
    Result<AgentKeyView> accept(const std::string& name, const std::string& actor) override;
    Result<AgentKeyView> revoke(const std::string& name, const std::string& actor) override;

  private:
    void on_hello(const transport::Stranger& from, const proto::Hello& hello);
    void on_enroll(const transport::Stranger& from, const proto::Enroll& enroll);

    KeyDirectory& keys_;
    EnrollmentTokens& tokens_;
    AuditTrail& audit_;
    const Links links_;
    const std::string endpoint_;
    const std::string controller_key_;
};

}  // namespace hostline::controller
