// The web UI's login sessions against the real controller: a browser logs in with a token,
// gets an HttpOnly SameSite=Strict cookie and a CSRF token, and calls /api/v1 with the cookie.
// What another site could make a browser send (no CSRF token, a wrong one, another Origin) is
// refused and changes nothing; logout, revoking the token and the policy all still hold.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using nlohmann::json;

// local:ops may run ad-hoc commands and read jobs; local:viewer may do nothing.
const char* kPolicy = R"toml(
[roles.runner]
permissions = ["run.adhoc", "jobs.read"]
targets = "*"
[groups.runners]
members = ["local:ops"]
roles = ["runner"]
)toml";

const std::string kSameOrigin = "http://127.0.0.1";  // LocalCluster sends Host: 127.0.0.1
const std::string kSubmit = R"({"target": "web-1", "argv": ["true"]})";

// The value of the answer's one Set-Cookie header; empty when there is none.
std::string set_cookie_of(const ApiAnswer& answer) {
    std::string found;
    int count = 0;
    std::size_t at = 0;
    while ((at = answer.head.find("\r\nSet-Cookie: ", at)) != std::string::npos) {
        at += 14;
        found = answer.head.substr(at, answer.head.find("\r\n", at) - at);
        ++count;
    }
    EXPECT_LE(count, 1) << answer.head;
    return found;
}

bool is_hex64(const std::string& text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The status line of the answer to a WebSocket handshake for path, with these headers (as a
// browser sends it: the cookie and the page's Origin, never Authorization).
std::string websocket_handshake(const std::string& http_url, const std::string& path,
                                const HttpHeaders& headers) {
    const int port = std::stoi(http_url.substr(http_url.rfind(':') + 1));
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd >= 0) ::close(fd);
        return "cannot connect";
    }
    std::string request = "GET " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                          "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer;
    char buffer[4096];
    pollfd p{fd, POLLIN, 0};
    while (answer.find("\r\n") == std::string::npos && ::poll(&p, 1, 20000) > 0) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer.substr(0, answer.find("\r\n"));
}

struct Login {
    ApiAnswer answer;
    std::string cookie;  // "hostline_session=ID", for a Cookie header
    std::string csrf;
};

class BrowserSession : public ClusterTest {
  protected:
    void SetUp() override {
        cluster.set_policy(kPolicy);
        cluster.start_controller();
        cluster.add_agent("web-1");
        cluster.wait_online({"web-1"});
    }

    std::string token_for(const std::string& name, const std::string& identity) {
        return cluster
            .post_api("/api/v1/tokens", json{{"name", name}, {"identity", identity}})["secret"]
            .get<std::string>();
    }

    Login login(const std::string& token, const HttpHeaders& headers = {}) {
        Login result{cluster.api("POST", "/auth/login", "", json{{"token", token}}.dump(), headers),
                     "", ""};
        const std::string set_cookie = set_cookie_of(result.answer);
        result.cookie = set_cookie.substr(0, set_cookie.find(';'));
        const auto doc = json::parse(result.answer.body, nullptr, false);
        if (doc.is_object() && doc.contains("csrf")) result.csrf = doc["csrf"].get<std::string>();
        return result;
    }

    // A request as the browser's page sends it: the cookie, the page's Origin, and the CSRF
    // token when given.
    ApiAnswer as_browser(const std::string& method, const std::string& path, const Login& session,
                         const std::string& csrf, const std::string& body = "",
                         const std::string& origin = kSameOrigin) {
        HttpHeaders headers{{"Cookie", "theme=dark; " + session.cookie}};
        if (!origin.empty()) headers.emplace_back("Origin", origin);
        if (!csrf.empty()) headers.emplace_back("X-CSRF-Token", csrf);
        return cluster.api(method, path, "", body, headers);
    }

    json jobs_seen_by_admin() {
        return json::parse(cluster.api("GET", "/api/v1/jobs", cluster.admin_secret()).body)["jobs"];
    }

    json audit_events(const std::string& kind) {
        return json::parse(cluster.api("GET", "/api/v1/audit?kind=" + kind, cluster.admin_secret())
                               .body)["events"];
    }
};

TEST_F(BrowserSession, LoginWithTheAdminTokenOrAnApiTokenGivesAStrictHttpOnlyCookie) {
    const std::string ops_token = token_for("ops", "local:ops");
    for (const auto& [token, identity] :
         {std::pair{cluster.admin_secret(), std::string("token:admin")},
          std::pair{ops_token, std::string("local:ops")}}) {
        SCOPED_TRACE(identity);
        const std::int64_t before = now_ms();
        const Login session = login(token);
        ASSERT_EQ(session.answer.status, 200) << session.answer.body;
        const std::string set_cookie = set_cookie_of(session.answer);
        const std::string id = session.cookie.substr(session.cookie.find('=') + 1);
        EXPECT_TRUE(is_hex64(id)) << set_cookie;
        EXPECT_EQ(set_cookie, "hostline_session=" + id + "; Path=/; HttpOnly; SameSite=Strict");
        const json body = json::parse(session.answer.body);
        EXPECT_EQ(body["identity"], identity);
        EXPECT_TRUE(is_hex64(session.csrf)) << body.dump();
        EXPECT_NE(session.csrf, id);
        // The default idle timeout is 12 hours.
        EXPECT_GE(body["expires_ms"].get<std::int64_t>(), before + 12 * 3600 * 1000);
        EXPECT_LE(body["expires_ms"].get<std::int64_t>(), now_ms() + 12 * 3600 * 1000);
        EXPECT_EQ(body.dump().find(token), std::string::npos) << "the token is not echoed";

        // A reloaded page gets its identity and CSRF token back with the cookie alone.
        const ApiAnswer again = as_browser("GET", "/auth/session", session, "", "", "");
        ASSERT_EQ(again.status, 200) << again.body;
        EXPECT_EQ(json::parse(again.body)["identity"], identity);
        EXPECT_EQ(json::parse(again.body)["csrf"], session.csrf);
        // Every answer forbids framing and referrers.
        EXPECT_NE(again.head.find("\r\nX-Frame-Options: DENY"), std::string::npos) << again.head;
        EXPECT_NE(again.head.find("\r\nReferrer-Policy: no-referrer"), std::string::npos);
    }
    const json logins = audit_events("ui.login");
    ASSERT_EQ(logins.size(), 2u) << logins.dump();
    EXPECT_EQ(logins[0]["actor"], "local:ops");  // newest first
    EXPECT_EQ(logins[1]["actor"], "token:admin");
}

TEST_F(BrowserSession, ACookieReadsButAChangeNeedsTheCsrfTokenAndThisOrigin) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;

    const ApiAnswer list = as_browser("GET", "/api/v1/jobs", session, "");
    EXPECT_EQ(list.status, 200) << list.body;

    const ApiAnswer no_csrf = as_browser("POST", "/api/v1/jobs", session, "", kSubmit);
    EXPECT_EQ(no_csrf.status, 403) << no_csrf.body;
    EXPECT_NE(no_csrf.body.find("the CSRF token is missing"), std::string::npos) << no_csrf.body;

    std::string wrong = session.csrf;
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    const ApiAnswer bad_csrf = as_browser("POST", "/api/v1/jobs", session, wrong, kSubmit);
    EXPECT_EQ(bad_csrf.status, 403) << bad_csrf.body;
    EXPECT_NE(bad_csrf.body.find("the CSRF token is wrong"), std::string::npos) << bad_csrf.body;

    const ApiAnswer other_origin =
        as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit, "http://evil.example");
    EXPECT_EQ(other_origin.status, 403) << other_origin.body;
    EXPECT_NE(other_origin.body.find("Origin http://evil.example"), std::string::npos)
        << other_origin.body;
    // A read from another origin is refused too (a WebSocket handshake is a GET).
    EXPECT_EQ(as_browser("GET", "/api/v1/jobs", session, "", "", "http://evil.example").status,
              403);
    EXPECT_EQ(
        as_browser("GET", "/api/v1/jobs", session, "", "", "http://127.0.0.1.evil.example").status,
        403);
    const ApiAnswer fetch_site =
        cluster.api("GET", "/api/v1/jobs", "", "",
                    {{"Cookie", session.cookie}, {"Sec-Fetch-Site", "cross-site"}});
    EXPECT_EQ(fetch_site.status, 403) << fetch_site.body;

    EXPECT_EQ(jobs_seen_by_admin(), json::array()) << "no refused change made a job";

    const ApiAnswer made = as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit);
    ASSERT_EQ(made.status, 201) << made.body;
    const json jobs = jobs_seen_by_admin();
    ASSERT_EQ(jobs.size(), 1u) << jobs.dump();
    EXPECT_EQ(jobs[0]["requester"], "local:ops") << "the session acts as its token's identity";
    // The page's own https origin (through a TLS proxy) is this server's origin too.
    EXPECT_EQ(
        as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit, "https://127.0.0.1")
            .status,
        201);
}

TEST_F(BrowserSession, AWebSocketHandshakeWithTheCookieMustComeFromThisOrigin) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;
    const ApiAnswer made = as_browser("POST", "/api/v1/jobs", session, session.csrf,
                                      R"({"target": "web-1", "argv": ["sleep", "5"]})");
    ASSERT_EQ(made.status, 201) << made.body;
    const std::string events =
        "/api/v1/jobs/" + std::to_string(json::parse(made.body)["job"].get<long>()) + "/events";

    EXPECT_EQ(websocket_handshake(cluster.http_url(), events,
                                  {{"Cookie", session.cookie}, {"Origin", "http://evil.example"}}),
              "HTTP/1.1 403 Forbidden");
    EXPECT_EQ(websocket_handshake(cluster.http_url(), events,
                                  {{"Cookie", session.cookie}, {"Origin", kSameOrigin}}),
              "HTTP/1.1 101 Switching Protocols");
}

TEST_F(BrowserSession, ABearerTokenWinsOverACookieAndNeedsNoCsrfToken) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;
    const ApiAnswer made = cluster.api("POST", "/api/v1/jobs", cluster.admin_secret(), kSubmit,
                                       {{"Cookie", session.cookie}});
    ASSERT_EQ(made.status, 201) << made.body;
    EXPECT_EQ(jobs_seen_by_admin()[0]["requester"], "token:admin");
    // A bad bearer token is not rescued by a good cookie.
    EXPECT_EQ(cluster.api("GET", "/api/v1/jobs", "wrong", "", {{"Cookie", session.cookie}}).status,
              401);
}

TEST_F(BrowserSession, LogoutNeedsTheCsrfTokenAndThenTheCookieNoLongerWorks) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;

    const ApiAnswer refused = as_browser("POST", "/auth/logout", session, "");
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(as_browser("GET", "/api/v1/jobs", session, "").status, 200) << "still logged in";

    const ApiAnswer out = as_browser("POST", "/auth/logout", session, session.csrf);
    EXPECT_EQ(out.status, 204) << out.body;
    EXPECT_EQ(set_cookie_of(out),
              "hostline_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");

    const ApiAnswer after = as_browser("GET", "/api/v1/jobs", session, "");
    EXPECT_EQ(after.status, 401) << after.body;
    EXPECT_EQ(as_browser("GET", "/auth/session", session, "").status, 401);
    EXPECT_EQ(as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit).status, 401);
    EXPECT_EQ(jobs_seen_by_admin(), json::array());

    const json logouts = audit_events("ui.logout");
    ASSERT_EQ(logouts.size(), 1u) << logouts.dump();
    EXPECT_EQ(logouts[0]["actor"], "local:ops");
}

TEST_F(BrowserSession, RevokingTheApiTokenEndsItsSessionsAtOnce) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;
    ASSERT_EQ(as_browser("GET", "/api/v1/jobs", session, "").status, 200);

    ASSERT_EQ(cluster.api("DELETE", "/api/v1/tokens/ops", cluster.admin_secret()).status, 200);
    const ApiAnswer after = as_browser("GET", "/api/v1/jobs", session, "");
    EXPECT_EQ(after.status, 401) << after.body;
    EXPECT_NE(after.body.find("the token 'ops' was revoked"), std::string::npos) << after.body;
    EXPECT_EQ(as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit).status, 401);
    EXPECT_EQ(jobs_seen_by_admin(), json::array());
}

TEST_F(BrowserSession, ThePolicyDecidesForASessionAsForItsToken) {
    const Login session = login(token_for("viewer", "local:viewer"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;
    const ApiAnswer denied = as_browser("POST", "/api/v1/jobs", session, session.csrf, kSubmit);
    EXPECT_EQ(denied.status, 403) << denied.body;
    EXPECT_NE(denied.body.find("you (local:viewer) lack run.adhoc"), std::string::npos)
        << denied.body;
    EXPECT_EQ(as_browser("GET", "/api/v1/audit", session, "").status, 403);
    EXPECT_EQ(jobs_seen_by_admin(), json::array());
}

TEST_F(BrowserSession, ABadTokenABadBodyOrAnotherOriginGetsNoSession) {
    const std::string ops_token = token_for("ops", "local:ops");

    const Login bad = login("hlt_not-a-real-token");
    EXPECT_EQ(bad.answer.status, 401) << bad.answer.body;
    EXPECT_EQ(set_cookie_of(bad.answer), "");
    EXPECT_EQ(json::parse(bad.answer.body)["error"]["code"], "unauthorized");

    const Login elsewhere = login(ops_token, {{"Origin", "http://evil.example"}});
    EXPECT_EQ(elsewhere.answer.status, 403) << elsewhere.answer.body;
    EXPECT_EQ(set_cookie_of(elsewhere.answer), "");
    const Login cross = login(ops_token, {{"Sec-Fetch-Site", "cross-site"}});
    EXPECT_EQ(cross.answer.status, 403) << cross.answer.body;
    EXPECT_EQ(set_cookie_of(cross.answer), "");

    for (const std::string body : {"", "[]", "{\"token\": 5}", "{\"token\": \"\"}",
                                   "{\"token\": \"x\", \"user\": \"y\"}", "{nope"}) {
        const ApiAnswer answer = cluster.api("POST", "/auth/login", "", body);
        EXPECT_EQ(answer.status, 400) << body << ": " << answer.body;
        EXPECT_EQ(set_cookie_of(answer), "") << body;
    }
    EXPECT_EQ(cluster.api("GET", "/auth/login", "").status, 405);
    EXPECT_EQ(cluster.api("GET", "/auth/nothing", "").status, 404);
    // Asked without a cookie, the session is none (not an error: every page load asks).
    const ApiAnswer none = cluster.api("GET", "/auth/session", "");
    EXPECT_EQ(none.status, 200);
    EXPECT_EQ(none.body, R"({"identity":null,"csrf":null,"expires_ms":null})");

    // The same origin logs in.
    EXPECT_EQ(login(ops_token, {{"Origin", kSameOrigin}}).answer.status, 200);

    const json refused = audit_events("ui.login_refused");
    ASSERT_EQ(refused.size(), 3u) << refused.dump();
    EXPECT_EQ(refused.dump().find("not-a-real-token"), std::string::npos) << refused.dump();
}

TEST_F(BrowserSession, AForgedOrGarbledCookieIsRefusedLikeNoToken) {
    const Login session = login(token_for("ops", "local:ops"));
    ASSERT_EQ(session.answer.status, 200) << session.answer.body;
    const std::string forged = "hostline_session=" + std::string(64, 'a');
    for (const std::string& cookie :
         {forged, std::string("hostline_session="), std::string("hostline_session"),
          std::string("=; ;;=;"), std::string(4000, ';'), std::string("hostline_session=\"abc"),
          session.cookie + "; " + forged}) {
        const ApiAnswer answer = cluster.api("GET", "/api/v1/jobs", "", "", {{"Cookie", cookie}});
        EXPECT_EQ(answer.status, 401) << cookie << ": " << answer.body;
    }
    // The controller is still up and the real session still works.
    EXPECT_EQ(as_browser("GET", "/api/v1/jobs", session, "").status, 200);
}

// Behind a TLS proxy the cookie must never travel over plain HTTP.
TEST(BrowserSessionSecureCookies, SecureCookiesMarksTheSessionCookieAndItsClearingSecure) {
    LocalCluster cluster;
    cluster.add_controller_config("secure_cookies = true\n");  // into the cluster's [http]
    cluster.start_controller();
    const ApiAnswer in =
        cluster.api("POST", "/auth/login", "", json{{"token", cluster.admin_secret()}}.dump());
    ASSERT_EQ(in.status, 200) << in.body << cluster.logs();
    const std::string set_cookie = set_cookie_of(in);
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    EXPECT_EQ(set_cookie, cookie + "; Path=/; HttpOnly; SameSite=Strict; Secure");

    const ApiAnswer out = cluster.api(
        "POST", "/auth/logout", "", "",
        {{"Cookie", cookie}, {"X-CSRF-Token", json::parse(in.body)["csrf"].get<std::string>()}});
    EXPECT_EQ(out.status, 204) << out.body;
    EXPECT_EQ(set_cookie_of(out),
              "hostline_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure");
}

}  // namespace
}  // namespace hostline::testing
