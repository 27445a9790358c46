// GET /metrics: the Prometheus text exposition, outside /api/ like /healthz, but behind a
// bearer token whose identity holds metrics.read unless [http] metrics_public opens it.

#include <string>

#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

void Router::serve_metrics(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    if (!expose_metrics_) return exchange->respond(error_response(404, "there is no /metrics"));
    if (request.method != "GET") {
        auto response = error_response(405, "/metrics allows only GET");
        response.headers.emplace_back("Allow", "GET");
        return exchange->respond(std::move(response));
    }
    if (!metrics_public_) {
        if (request.authorization.empty()) {
            return exchange->respond(unauthorized(
                "/metrics needs a token holding metrics.read: send 'Authorization: Bearer "
                "<token>', or set [http] metrics_public = true"));
        }
        auto identity = authenticate(request.authorization);
        if (!identity) return exchange->respond(unauthorized(identity.error().message));
        // Only refusals go to the audit trail: a scraper every 15 s would otherwise add
        // thousands of identical rows a day to the hash chain.
        const Decision d = policy()->decide({*identity, "metrics.read", {}, ""});
        if (!d.allowed) {
            (audit_trail_ != nullptr ? *audit_trail_ : no_audit_)
                .record({"policy.denied",
                         *identity,
                         "/metrics",
                         {{"permission", "metrics.read"},
                          {"hosts", ""},
                          {"channel", "api"},
                          {"reason", d.reason}}});
            return exchange->respond(error_response(403, d.reason));
        }
    }
    exchange->respond(Response{.content_type = "text/plain; version=0.0.4; charset=utf-8",
                               .body = expose_metrics_()});
}

}  // namespace hostline::controller::http
