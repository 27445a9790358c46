// POST /chat/teams/messages: the Bot Connector's calls. Outside /api/ because no bearer API
// token is asked for: the Bot Framework's JWT authenticates, and the TeamsInbox checks it
// before anything in the activity is used.
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

void Router::post_teams(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    if (teams_ == nullptr)
        return exchange->respond(error_response(404, "Microsoft Teams is not configured here"));
    if (request.method != "POST") {
        auto response = error_response(405, "/chat/teams/messages allows only POST");
        response.headers.emplace_back("Allow", "POST");
        return exchange->respond(std::move(response));
    }
    teams_->receive(request.authorization, request.body, [exchange](TeamsInboxAnswer answer) {
        if (answer.status == 401) return exchange->respond(unauthorized(answer.body));
        if (answer.status >= 400)
            return exchange->respond(error_response(answer.status, answer.body));
        exchange->respond(Response{.status = answer.status, .body = std::move(answer.body)});
    });
}

}  // namespace hostline::controller::http
