// Every API route refuses a caller without a token, with a revoked token, and with a valid
// token whose identity holds no permission at all; the same through a browser session's cookie
// (docs/api.md, "Browser sessions"), and every change through an admin's session that lacks the
// CSRF token. The routes come from the Router's own
// table, so a route added later is checked here without anyone listing it; a route that
// answers such a caller with anything but 403 must be in the allow-list below, with the
// answer it documents, or this test fails.
//
// The real controller (policy, approvals, tokens, chat, enrollment all on, as app.cpp wires
// them) and a real agent, so that path parameters name things that exist and each call
// reaches the permission step instead of stopping at a 404 or a 400.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "controller/http/routes.hpp"
#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using nlohmann::json;
using RouteInfo = controller::http::Router::RouteInfo;

const char* kCatalog = R"toml(
[[command]]
name = "bounce"
summary = "Restart a service (needs one approval from ops)"
run = ["echo", "bounced"]

[command.approval]
group = "ops"
count = 1
expiry = "10m"
)toml";

// alice may ask for bounce; token:admin approves (so that an approval decided "as the admin"
// instead of as the caller would show here as a 200).
const char* kPolicy = R"toml(
[roles.operator]
permissions = ["command.bounce"]
targets = "*"
[roles.approver]
permissions = ["approvals.decide"]
[groups.operators]
members = ["local:alice"]
roles = ["operator"]
[groups.ops]
members = ["token:admin"]
roles = ["approver"]
)toml";

// Routes that answer every authenticated identity, even one without any permission, and
// what they answer it. Everything else must be 403 for such a caller.
struct OpenRoute {
    int status;
    const char* why;
};
const std::map<std::string, OpenRoute> kOpenToEveryone = {
    // The fleet's names and states are not secret from anyone who may call the API
    // (docs/api.md, "GET /api/v1/agents").
    {"GET /api/v1/agents", {200, "the agent list is open to every identity"}},
    // Everyone may list their own jobs; without jobs.read the list is the caller's own
    // (asserted below: it holds none of the other identities' jobs).
    {"GET /api/v1/jobs", {200, "lists the caller's own jobs"}},
    {"GET /api/v1/agents/{name}", {200, "one agent is as open as the agent list"}},
};

// A body that gets each POST past its validation to the permission check. A route that
// needs a body and is missing here answers 400 and fails the test: add its body.
const std::map<std::string, std::string> kBodies = {
    {"POST /api/v1/agents/tokens", R"({"labels": {"role": "web"}})"},
    {"POST /api/v1/agents/accept", R"({"name": "web-1"})"},
    {"POST /api/v1/agents/revoke", R"({"name": "web-1"})"},
    {"POST /api/v1/jobs", R"({"target": "web-1", "argv": ["true"]})"},
    {"POST /api/v1/chat", R"({"identity": "local:alice", "text": "help"})"},
    {"POST /api/v1/tokens", R"({"name": "mine", "identity": "local:nobody"})"},
    {"POST /api/v1/approvals/{id}/deny", R"({"reason": "not now"})"},
    {"POST /api/v1/schedules", R"({"cron": "0 3 * * *", "command": ["bounce", "--on", "web-1"]})"},
};

std::string key(const RouteInfo& route) {
    return std::string(route.method) + " " + std::string(route.pattern);
}

// The pattern with its parameters filled: {id} is a job (the pending approval's, someone
// else's), {name} an agent under /agents/ and a token elsewhere.
std::string path_of(const RouteInfo& route, long job_id, const std::string& token_name) {
    std::string path(route.pattern);
    if (auto at = path.find("{id}"); at != std::string::npos)
        path.replace(at, 4, std::to_string(job_id));
    if (auto at = path.find("{name}"); at != std::string::npos)
        path.replace(at, 6, path.find("/agents/") != std::string::npos ? "web-1" : token_name);
    return path;
}

class PermissionMatrix : public ClusterTest {
  protected:
    void SetUp() override {
        cluster.set_catalog(kCatalog);
        cluster.set_policy(kPolicy);
        cluster.start_controller();
        cluster.add_agent("web-1");
        cluster.wait_online({"web-1"});
    }

    std::string admin_token() const {
        std::ifstream in(cluster.token_file());
        std::string token;
        std::getline(in, token);
        return token;
    }

    // A new API token for identity; returns its secret.
    std::string token_for(const std::string& name, const std::string& identity) {
        return cluster
            .post_api("/api/v1/tokens", json{{"name", name}, {"identity", identity}})["secret"]
            .get<std::string>();
    }

    // A browser session of this token: the headers a page of this origin sends with it, its
    // CSRF token included when with_csrf.
    struct Session {
        std::string cookie;
        std::string csrf;
        HttpHeaders headers(bool with_csrf) const {
            HttpHeaders h{{"Cookie", cookie}, {"Origin", "http://127.0.0.1"}};
            if (with_csrf) h.emplace_back("X-CSRF-Token", csrf);
            return h;
        }
    };
    Session session_for(const std::string& token) {
        const ApiAnswer answer =
            cluster.api("POST", "/auth/login", "", json{{"token", token}}.dump());
        EXPECT_EQ(answer.status, 200) << answer.body;
        const auto at = answer.head.find("Set-Cookie: ");
        EXPECT_NE(at, std::string::npos) << answer.head;
        if (at == std::string::npos) return {};
        const auto value = answer.head.substr(at + 12);
        return {value.substr(0, value.find(';')), json::parse(answer.body)["csrf"]};
    }
};

TEST_F(PermissionMatrix, EveryRouteRefusesNoTokenARevokedTokenAndAnIdentityWithoutPermission) {
    const std::string nobody = token_for("nobody", "local:nobody");
    const std::string revoked = token_for("gone", "local:gone");
    const Session nobody_session = session_for(nobody);
    const Session gone_session = session_for(revoked);
    const Session admin_session = session_for(admin_token());
    ASSERT_EQ(cluster.api("DELETE", "/api/v1/tokens/gone", admin_token()).status, 200);
    token_for("victim", "local:victim");  // {name} of the token routes: someone else's

    // A job of alice's that waits for approval: {id} of the job and approval routes.
    const std::string asked = cluster.chat("local:alice", "bounce --on web-1");
    const auto hash = asked.find("approval needed for job #");
    ASSERT_NE(hash, std::string::npos) << asked;
    const long job_id =
        std::stol(asked.substr(hash + std::string("approval needed for job #").size()));

    const auto routes = controller::http::Router::route_table();
    ASSERT_GE(routes.size(), 20u);
    std::set<std::string> open_seen;
    for (const RouteInfo& route : routes) {
        const std::string what = key(route);
        SCOPED_TRACE(what);
        const std::string path = path_of(route, job_id, "victim");
        const auto body_it = kBodies.find(what);
        const std::string body = body_it != kBodies.end() ? body_it->second : "{}";

        const ApiAnswer no_token = cluster.api(std::string(route.method), path, "", body);
        EXPECT_EQ(no_token.status, 401) << no_token.body;
        EXPECT_NE(no_token.head.find("WWW-Authenticate: Bearer"), std::string::npos)
            << no_token.head;

        const ApiAnswer gone = cluster.api(std::string(route.method), path, revoked, body);
        EXPECT_EQ(gone.status, 401) << gone.body;
        EXPECT_NE(gone.body.find("the token 'gone' was revoked"), std::string::npos) << gone.body;

        const ApiAnswer gone_cookie =
            cluster.api(std::string(route.method), path, "", body, gone_session.headers(true));
        // The first use after the revocation ends the session ("the token 'gone' was
        // revoked"); later ones find no session.
        EXPECT_EQ(gone_cookie.status, 401) << gone_cookie.body;
        if (&route == &routes.front()) {
            EXPECT_NE(gone_cookie.body.find("the token 'gone' was revoked"), std::string::npos)
                << gone_cookie.body;
        }

        // The bearer token, and the browser session of the same identity with its CSRF token:
        // a cookie opens nothing the token does not.
        const ApiAnswer bare_token = cluster.api(std::string(route.method), path, nobody, body);
        const ApiAnswer bare_cookie =
            cluster.api(std::string(route.method), path, "", body, nobody_session.headers(true));
        for (const ApiAnswer* bare : {&bare_token, &bare_cookie}) {
            SCOPED_TRACE(bare == &bare_token ? "bearer token" : "session cookie");
            const auto open = kOpenToEveryone.find(what);
            if (open != kOpenToEveryone.end()) {
                open_seen.insert(what);
                EXPECT_EQ(bare->status, open->second.status)
                    << open->second.why << ": " << bare->body;
            } else {
                // Neither protected nor on the allow-list: a hole, or a new open route to list.
                EXPECT_EQ(bare->status, 403) << "local:nobody holds no permission, yet " << what
                                             << " answered: " << bare->body;
                const auto doc = json::parse(bare->body, nullptr, false);
                EXPECT_TRUE(doc.is_object() && doc.contains("error")) << bare->body;
            }
        }

        // Every change through a session needs its CSRF token, even the admin's.
        if (route.method != "GET") {
            const ApiAnswer no_csrf = cluster.api(std::string(route.method), path, "", body,
                                                  admin_session.headers(false));
            EXPECT_EQ(no_csrf.status, 403) << no_csrf.body;
            EXPECT_NE(no_csrf.body.find("the CSRF token is missing"), std::string::npos)
                << no_csrf.body;
        }
    }
    // The allow-list names only routes that exist.
    for (const auto& [name, _] : kOpenToEveryone) EXPECT_TRUE(open_seen.count(name)) << name;

    // The open job list shows nobody none of alice's jobs.
    const auto jobs = json::parse(cluster.api("GET", "/api/v1/jobs", nobody).body);
    EXPECT_EQ(jobs["jobs"], json::array()) << jobs.dump();
    // Nothing the bare identity asked for took effect: the approval still waits, the token
    // still stands.
    const auto approvals = json::parse(cluster.api("GET", "/api/v1/approvals", admin_token()).body);
    ASSERT_EQ(approvals["approvals"].size(), 1u) << approvals.dump();
    EXPECT_EQ(approvals["approvals"][0]["state"], "pending");
    const auto tokens = json::parse(cluster.api("GET", "/api/v1/tokens", admin_token()).body);
    for (const auto& token : tokens["tokens"]) {
        if (token["name"] == "victim") {
            EXPECT_EQ(token["state"], "active");
        }
    }
    // Nor did the admin's session without its CSRF token: the only job is alice's, still held,
    // and the admin's session still works.
    EXPECT_EQ(json::parse(cluster.api("GET", "/api/v1/jobs", admin_token()).body)["jobs"].size(),
              1u);
    EXPECT_EQ(cluster.api("GET", "/api/v1/jobs", "", "", admin_session.headers(false)).status, 200);
}

}  // namespace
}  // namespace hostline::testing
