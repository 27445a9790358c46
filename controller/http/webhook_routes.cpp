// POST /hooks/NAME: the inbound webhooks (docs/webhooks.md). Outside /api/ because no bearer
// token is asked for: the hook's HMAC signature is the authentication, and the WebhookDesk
// checks it over the raw body before anything else reads it.
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

void Router::post_hook(const Request& request, std::string_view name,
                       const std::shared_ptr<Exchange>& exchange) {
    if (hooks_ == nullptr || name.empty() || name.find('/') != std::string_view::npos)
        return exchange->respond(error_response(404, "there is no /hooks/" + std::string(name)));
    if (request.method != "POST") {
        auto response = error_response(405, "/hooks/" + std::string(name) + " allows only POST");
        response.headers.emplace_back("Allow", "POST");
        return exchange->respond(std::move(response));
    }
    hooks_->receive(WebhookCall{std::string(name), request.headers, request.body},
                    [exchange](WebhookAnswer answer) {
                        if (answer.status >= 300)
                            return exchange->respond(error_response(answer.status, answer.message));
                        Json body{{"status", "accepted"}, {"message", answer.message}};
                        if (answer.job_id) body["job_id"] = *answer.job_id;
                        exchange->respond(json_response(answer.status, body));
                    });
}

}  // namespace hostline::controller::http
