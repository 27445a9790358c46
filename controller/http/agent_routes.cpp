// One agent's routes: GET /api/v1/agents/{name}, and draining it before maintenance
// (POST /api/v1/agents/{name}/drain and /undrain, docs/api.md).
#include <algorithm>

#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

void Router::get_agent(const Call& call) {
    const auto agents = jobs_.agents();
    const auto it = std::find_if(agents.begin(), agents.end(),
                                 [&](const AgentInfo& agent) { return agent.name == call.name; });
    if (it == agents.end())
        return call.exchange->respond(
            error_response(404, "there is no agent named '" + std::string(call.name) + "'"));
    call.exchange->respond(json_response(200, Json{{"agent", agent_json(*it)}}));
}

void Router::post_agent_drain(const Call& call) {
    change_draining(call, true);
}

void Router::post_agent_undrain(const Call& call) {
    change_draining(call, false);
}

// No body; agents.manage was decided by the route table.
void Router::change_draining(const Call& call, bool draining) {
    auto agent = jobs_.set_draining(std::string(call.name), draining, call.identity);
    if (!agent) return call.exchange->respond(error_response(404, agent.error().message));
    call.exchange->respond(json_response(200, Json{{"agent", agent_json(*agent)}}));
}

}  // namespace hostline::controller::http
