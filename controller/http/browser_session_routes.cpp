// The web UI's login sessions (docs/api.md, "Browser sessions"; docs/security.md): a browser
// trades an API token for a session cookie at /auth/login and then calls /api/v1 with the
// cookie instead of a bearer header.
//
// A cookie is sent by the browser on its own, which a bearer header never is, so everything a
// cookie authenticates is first checked for where it comes from: another site's Origin (or
// Sec-Fetch-Site) is refused for every method, and a change (anything but GET and HEAD) must
// echo the session's CSRF token, which only pages of this origin can read.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/http/cookie_header.hpp"
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {
namespace {

constexpr std::string_view kCookieName = "hostline_session";
constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [&](char x, char y) { return lower(x) == lower(y); });
}

// The values of every header called `name` (names compare without case, as HTTP says).
std::vector<std::string_view> header_values(const Request& request, std::string_view name) {
    std::vector<std::string_view> values;
    for (const auto& [header, value] : request.headers)
        if (same_text_ignoring_case(header, name)) values.push_back(value);
    return values;
}

// Why the request comes from another site, or nullopt when nothing says so. A browser names the
// page's origin in Origin on every cross-origin request and on same-origin ones other than
// GET and HEAD; this server's own origin is http:// or https:// and the Host it was asked for
// (a TLS proxy in front changes the scheme, not the Host). Sec-Fetch-Site, where the browser
// sends it, says the same without the Host: same-site (a sibling subdomain) is refused too,
// since the UI is served from this origin only.
std::optional<std::string> cross_site(const Request& request) {
    // What another site sends is echoed in the answer and the audit trail: a bounded excerpt.
    const auto refusal = [](std::string_view what, std::string_view value) {
        return "browser sessions serve this server's own pages only; this request came from " +
               std::string(what) + std::string(value.substr(0, 200));
    };
    const auto hosts = header_values(request, "Host");
    for (const auto origin : header_values(request, "Origin")) {
        const bool own = hosts.size() == 1 && !hosts[0].empty() &&
                         (same_text_ignoring_case(origin, "http://" + std::string(hosts[0])) ||
                          same_text_ignoring_case(origin, "https://" + std::string(hosts[0])));
        if (!own) return refusal("Origin ", origin);
    }
    for (const auto site : header_values(request, "Sec-Fetch-Site"))
        if (same_text_ignoring_case(site, "cross-site") ||
            same_text_ignoring_case(site, "same-site"))
            return refusal("another site, says Sec-Fetch-Site: ", site);
    return std::nullopt;
}

bool is_safe_method(std::string_view method) {
    return method == "GET" || method == "HEAD";
}

// No Max-Age: the cookie goes when the browser closes, and the server ends the session anyway.
std::string session_cookie(std::string_view id, bool secure) {
    return std::string(kCookieName) + "=" + std::string(id) +
           "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string cleared_cookie(bool secure) {
    return std::string(kCookieName) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" +
           (secure ? "; Secure" : "");
}

Json session_json(const std::string& identity, const BrowserSession& session) {
    return Json{{"identity", identity}, {"csrf", session.csrf}, {"expires_ms", session.expires_ms}};
}

// The token of a login body {"token": "..."}, or why the body is not one.
Result<std::string> login_token(const std::string& body) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    constexpr std::string_view kShape =
        "the body must be a JSON object {\"token\": \"<API token>\"}";
    if (doc.is_discarded() || !doc.is_object()) return fail(std::string(kShape));
    for (const auto& [key, value] : doc.items())
        if (key != "token") return fail("unknown field '" + key + "'; expected token");
    const auto token = doc.find("token");
    if (token == doc.end() || !token->is_string() || token->get_ref<const std::string&>().empty())
        return fail("token is required: " + std::string(kShape));
    return token->get<std::string>();
}

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

void Router::enable_browser_sessions(BrowserSessionLimits limits, bool secure_cookies) {
    browser_sessions_.emplace(limits, system_now_ms);
    secure_cookies_ = secure_cookies;
}

void Router::handle_auth(const Request& request, std::string_view path,
                         const std::shared_ptr<Exchange>& exchange) {
    struct AuthRoute {
        std::string_view path;
        std::string_view method;
        void (Router::*handler)(const Request&, const std::shared_ptr<Exchange>&);
    };
    static constexpr AuthRoute kAuthRoutes[] = {
        {"/auth/login", "POST", &Router::post_login},
        {"/auth/session", "GET", &Router::get_session},
        {"/auth/logout", "POST", &Router::post_logout},
    };
    for (const auto& route : kAuthRoutes) {
        if (route.path != path) continue;
        if (!browser_sessions_) break;
        if (route.method != request.method) {
            auto response = error_response(
                405, std::string(path) + " allows only " + std::string(route.method));
            response.headers.emplace_back("Allow", std::string(route.method));
            return exchange->respond(std::move(response));
        }
        return (this->*route.handler)(request, exchange);
    }
    exchange->respond(error_response(404, "there is no " + std::string(path)));
}

// {"token": "..."} -> {"identity", "csrf", "expires_ms"} and the session cookie.
void Router::post_login(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    AuditTrail& audit = audit_trail_ != nullptr ? *audit_trail_ : no_audit_;
    // Another site must not log a visitor in (as the attacker, to capture what they then do).
    if (auto refused = cross_site(request)) {
        audit.record({"ui.login_refused", "unknown", "ui", {{"reason", *refused}}});
        return exchange->respond(error_response(403, *refused));
    }
    auto token = login_token(request.body);
    if (!token) return exchange->respond(error_response(400, token.error().message));
    auto identity = authenticate_secret(*token);
    if (!identity) {
        // The reason names a token at most ("the token 'ci' was revoked"), never its secret.
        audit.record({"ui.login_refused", "unknown", "ui", {{"reason", identity.error().message}}});
        return exchange->respond(error_response(401, identity.error().message));
    }
    // A session this browser held before ends: one login, one live session per cookie.
    for (const auto old : cookie_values(header_values(request, "Cookie"), kCookieName))
        browser_sessions_->close(old);
    auto opened = browser_sessions_->open(std::move(*token));
    audit.record({"ui.login", *identity, "ui", {{"channel", "ui"}}});
    auto response = json_response(200, session_json(*identity, opened.session));
    response.headers.emplace_back("Set-Cookie", session_cookie(opened.id, secure_cookies_));
    exchange->respond(std::move(response));
}

// The page reloads and needs its identity and CSRF token back.
// Without a cookie it answers 200 with nulls, not 401: a page asks this first on every load,
// and a browser logs every refused request as an error.
void Router::get_session(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    if (browser_sessions_ && !cross_site(request) &&
        cookie_values(header_values(request, "Cookie"), kCookieName).empty())
        return exchange->respond(json_response(
            200, Json{{"identity", nullptr}, {"csrf", nullptr}, {"expires_ms", nullptr}}));
    auto session = session_caller(request, exchange);
    if (!session) return;
    exchange->respond(json_response(200, session_json(session->identity, session->session)));
}

void Router::post_logout(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    auto session = session_caller(request, exchange);
    if (!session) return;
    browser_sessions_->close(session->id);
    (audit_trail_ != nullptr ? *audit_trail_ : no_audit_)
        .record({"ui.logout", session->identity, "ui", {{"channel", "ui"}}});
    Response response{.status = 204, .body = ""};
    response.headers.emplace_back("Set-Cookie", cleared_cookie(secure_cookies_));
    exchange->respond(std::move(response));
}

std::optional<std::string> Router::caller(const Request& request,
                                          const std::shared_ptr<Exchange>& exchange) {
    // A bearer header wins: another site cannot make a browser send one, so no CSRF is asked.
    if (!request.authorization.empty()) {
        auto identity = authenticate(request.authorization);
        if (!identity) {
            exchange->respond(unauthorized(identity.error().message));
            return std::nullopt;
        }
        return std::move(*identity);
    }
    if (!browser_sessions_ ||
        cookie_values(header_values(request, "Cookie"), kCookieName).empty()) {
        exchange->respond(
            unauthorized("this API needs a token: send 'Authorization: Bearer <token>' (a "
                         "browser logs in at POST /auth/login)"));
        return std::nullopt;
    }
    auto session = session_caller(request, exchange);
    if (!session) return std::nullopt;
    return std::move(session->identity);
}

std::optional<Router::SessionCaller> Router::session_caller(
    const Request& request, const std::shared_ptr<Exchange>& exchange) {
    const auto refuse = [&](Response response) {
        exchange->respond(std::move(response));
        return std::nullopt;
    };
    // A dead session's cookie is cleared, so the browser stops sending it.
    const auto ended = [&](const std::string& message) {
        auto response = unauthorized(message);
        response.headers.emplace_back("Set-Cookie", cleared_cookie(secure_cookies_));
        exchange->respond(std::move(response));
        return std::nullopt;
    };
    if (!browser_sessions_) return refuse(error_response(404, "browser sessions are off"));
    // Checked before the cookie is even looked up, so another site learns nothing of it.
    if (auto refused = cross_site(request)) return refuse(error_response(403, *refused));
    const auto ids = cookie_values(header_values(request, "Cookie"), kCookieName);
    if (ids.empty()) return refuse(unauthorized("there is no session: log in at POST /auth/login"));
    // Two of them (one set for a parent domain, say): which one the browser meant is unknown.
    if (ids.size() > 1)
        return ended("the request carries " + std::to_string(ids.size()) +
                     " hostline_session cookies; log in again");
    const std::string id(ids.front());
    auto session = browser_sessions_->use(id);
    if (!session)
        return ended(
            "the session has ended (logged out, expired, or the controller "
            "restarted): log in again");
    // Every use authenticates the token again: a revoked or expired token ends its sessions.
    auto identity = authenticate_secret(session->secret);
    if (!identity) {
        browser_sessions_->close(id);
        return ended("the session has ended: " + identity.error().message);
    }
    if (!is_safe_method(request.method)) {
        const auto csrf = header_values(request, kCsrfHeader);
        if (csrf.empty())
            return refuse(error_response(
                403,
                "the CSRF token is missing: a change through a browser session needs the "
                "X-CSRF-Token header with the csrf from /auth/login or /auth/session"));
        if (csrf.size() != 1 || !BrowserSessions::csrf_matches(*session, csrf.front()))
            return refuse(error_response(
                403,
                "the CSRF token is wrong: X-CSRF-Token must be this session's csrf from "
                "/auth/login or /auth/session"));
    }
    return SessionCaller{id, std::move(*identity), std::move(*session)};
}

}  // namespace hostline::controller::http
