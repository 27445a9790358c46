// POST /chat/teams/messages and POST /chat/slack/events: the chat platforms' calls. Outside
// /api/ because no bearer API token is asked for: the Bot Framework's JWT or Slack's request
// signature authenticates, and the adapter checks it before anything in the body is used.
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

namespace {

// What a person who called an unconfigured path should turn on.
std::string not_configured(std::string_view path) {
    if (path == "/chat/teams/messages")
        return "Microsoft Teams ([chat.teams]) is not configured here";
    if (path == "/chat/slack/events")
        return "the Slack Events API ([chat.slack] with mode = \"events\") is not configured here";
    return "there is no " + std::string(path);
}

}  // namespace

void Router::post_chat_inbound(const Request& request, std::string_view path,
                               const std::shared_ptr<Exchange>& exchange) {
    auto it = chat_inbound_.find(path);
    if (it == chat_inbound_.end())
        return exchange->respond(error_response(404, not_configured(path)));
    if (request.method != "POST") {
        auto response = error_response(405, std::string(path) + " allows only POST");
        response.headers.emplace_back("Allow", "POST");
        return exchange->respond(std::move(response));
    }
    it->second(chat::InboundCall{request.headers, request.body},
               [exchange](chat::InboundAnswer answer) {
                   if (answer.status == 401) return exchange->respond(unauthorized(answer.body));
                   if (answer.status >= 400)
                       return exchange->respond(error_response(answer.status, answer.body));
                   exchange->respond(Response{.status = answer.status,
                                              .content_type = std::move(answer.content_type),
                                              .body = std::move(answer.body)});
               });
}

}  // namespace hostline::controller::http
