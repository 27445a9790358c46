#include "controller/http/routes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/batch_size.hpp"
#include "common/duration.hpp"
#include "common/percent_encoding.hpp"
#include "common/target/target_expr.hpp"
#include "controller/http/audit_views.hpp"
#include "controller/http/json_views.hpp"

namespace hostline::controller::http {

// The permission the policy engine must grant before the handler runs. Empty: the handler
// decides itself, because the answer depends on more than the route (the hosts a job would
// touch, whether the job is the caller's own, the approval's group; the chat decides per
// command).
const std::array<Router::Route, 33> Router::kRoutes{{
    {"GET", "/api/v1/agents", &Router::get_agents, ""},
    {"POST", "/api/v1/agents/tokens", &Router::post_agent_token, ""},
    {"POST", "/api/v1/agents/accept", &Router::post_agent_accept, ""},
    {"POST", "/api/v1/agents/revoke", &Router::post_agent_revoke, ""},
    {"GET", "/api/v1/jobs", &Router::get_jobs, ""},
    {"POST", "/api/v1/jobs", &Router::post_jobs, ""},
    {"GET", "/api/v1/jobs/{id}", &Router::get_job, ""},
    {"GET", "/api/v1/jobs/{id}/output", &Router::get_output, ""},
    {"GET", "/api/v1/jobs/{id}/events", &Router::get_events, ""},
    {"POST", "/api/v1/jobs/{id}/cancel", &Router::post_cancel, ""},
    {"POST", "/api/v1/chat", &Router::post_chat, ""},
    {"POST", "/api/v1/policy/reload", &Router::post_policy_reload, ""},
    {"GET", "/api/v1/audit", &Router::get_audit, "audit.read"},
    {"GET", "/api/v1/audit/verify", &Router::get_audit_verify, "audit.read"},
    {"GET", "/api/v1/tokens", &Router::get_tokens, "tokens.manage"},
    {"POST", "/api/v1/tokens", &Router::post_tokens, "tokens.manage"},
    {"DELETE", "/api/v1/tokens/{name}", &Router::delete_token, "tokens.manage"},
    {"GET", "/api/v1/approvals", &Router::get_approvals, "approvals.decide"},
    {"POST", "/api/v1/approvals/{id}/approve", &Router::post_approve, ""},
    {"POST", "/api/v1/approvals/{id}/deny", &Router::post_deny, ""},
    // One agent is as open as the list of all of them.
    {"GET", "/api/v1/agents/{name}", &Router::get_agent, ""},
    {"POST", "/api/v1/agents/{name}/drain", &Router::post_agent_drain, "agents.manage"},
    {"POST", "/api/v1/agents/{name}/undrain", &Router::post_agent_undrain, "agents.manage"},
    {"GET", "/api/v1/jobs/{id}/output/download", &Router::get_output_download, ""},
    {"GET", "/api/v1/audit/export", &Router::get_audit_export, "audit.read"},
    {"GET", "/api/v1/schedules", &Router::get_schedules, "schedules.manage"},
    {"POST", "/api/v1/schedules", &Router::post_schedules, "schedules.manage"},
    {"GET", "/api/v1/schedules/{name}", &Router::get_schedule, "schedules.manage"},
    // An owner may pause, resume and remove their own schedule.
    {"POST", "/api/v1/schedules/{name}/pause", &Router::post_schedule_pause, ""},
    {"POST", "/api/v1/schedules/{name}/resume", &Router::post_schedule_resume, ""},
    {"DELETE", "/api/v1/schedules/{name}", &Router::delete_schedule, ""},
    {"GET", "/api/v1/log-levels", &Router::get_log_levels, "logs.manage"},
    {"PUT", "/api/v1/log-levels", &Router::put_log_levels, "logs.manage"},
}};

std::vector<Router::RouteInfo> Router::route_table() {
    std::vector<RouteInfo> table;
    for (const Route& route : kRoutes)
        table.push_back({route.method, route.pattern, route.permission});
    return table;
}

namespace {

constexpr int kMaxLimit = 500;
constexpr int kDefaultLimit = 50;

std::array<unsigned char, 32> sha256(std::string_view text) {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
        size != digest.size()) {
        std::abort();  // SHA-256 is always available in OpenSSL 3
    }
    return digest;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

// Whether `path` has the shape of `pattern`; the "{id}" or "{name}" segment's text goes to
// `id`.
bool matches(std::string_view pattern, std::string_view path, std::string_view& id) {
    while (!pattern.empty() && !path.empty()) {
        const auto pattern_end = std::min(pattern.find('/', 1), pattern.size());
        const auto path_end = std::min(path.find('/', 1), path.size());
        const auto want = pattern.substr(0, pattern_end);
        const auto got = path.substr(0, path_end);
        if (want == "/{id}" || want == "/{name}") {
            if (got.size() < 2) return false;
            id = got.substr(1);
        } else if (want != got) {
            return false;
        }
        pattern.remove_prefix(pattern_end);
        path.remove_prefix(path_end);
    }
    return pattern.empty() && path.empty();
}

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
    Int value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
    return value;
}

// A query value that must be an integer of at least `least`, or an error naming the
// parameter and saying what it should be.
Result<std::int64_t> number_param(const std::string& name, const std::string& value,
                                  std::string_view what, std::int64_t least = 1) {
    const auto number = parse_int<std::int64_t>(value);
    if (!number || *number < least)
        return fail(name + " must be " + std::string(what) + ", not '" + value + "'");
    return *number;
}

// The `limit` of a paginated list.
Result<int> limit_param(const std::string& value) {
    const auto limit = parse_int<int>(value);
    if (!limit || *limit < 1 || *limit > kMaxLimit)
        return fail("limit must be an integer from 1 to " + std::to_string(kMaxLimit) + ", not '" +
                    value + "'");
    return *limit;
}

Result<std::map<std::string, std::string>> parse_query(std::string_view query) {
    std::map<std::string, std::string> params;
    while (!query.empty()) {
        const auto end = std::min(query.find('&'), query.size());
        const auto pair = query.substr(0, end);
        query.remove_prefix(std::min(end + 1, query.size()));
        if (pair.empty()) continue;
        const auto equals = std::min(pair.find('='), pair.size());
        auto name = percent_decode(pair.substr(0, equals));
        auto value = percent_decode(pair.substr(std::min(equals + 1, pair.size())));
        if (!name || !value) {
            return fail("the query string has a malformed %-escape in '" + std::string(pair) + "'");
        }
        // Which of two values was meant is unknown: say so rather than pick one.
        if (params.contains(*name))
            return fail("the query parameter '" + *name +
                        "' is given twice; give it once (a list of states is comma-separated: "
                        "state=failed,timed_out)");
        params[std::move(*name)] = std::move(*value);
    }
    return params;
}

// A page of a list sorted by name (agents, tokens): ?after=NAME&limit=N.
struct NamePage {
    std::string after;  // only names after this one; empty: from the first
    int limit = kMaxLimit;
};

Result<NamePage> parse_name_page(std::string_view query_string) {
    auto params = parse_query(query_string);
    if (!params) return params.error();
    NamePage page;
    for (const auto& [name, value] : *params) {
        if (name == "after") {
            page.after = value;
        } else if (name == "limit") {
            auto limit = limit_param(value);
            if (!limit) return limit.error();
            page.limit = *limit;
        } else {
            return fail("unknown query parameter '" + name + "'; expected after or limit");
        }
    }
    return page;
}

// The items of `sorted` (by name) on `page` as {"<key>": [...], "next_after": NAME|null}:
// next_after is the page's last name when more follow.
template <typename T, typename NameOf, typename ToJson>
Json name_page_json(const std::vector<T>& sorted, const NamePage& page, const char* key,
                    NameOf name_of, ToJson to_json) {
    auto it = std::upper_bound(
        sorted.begin(), sorted.end(), page.after,
        [&](const std::string& after, const T& item) { return after < name_of(item); });
    if (page.after.empty()) it = sorted.begin();
    Json list = Json::array();
    for (int n = 0; it != sorted.end() && n < page.limit; ++it, ++n) list.push_back(to_json(*it));
    Json next = it != sorted.end() && !list.empty() ? Json(name_of(*std::prev(it))) : Json(nullptr);
    return Json{{key, std::move(list)}, {"next_after", std::move(next)}};
}

std::string job_state_names() {
    std::string names;
    for (int i = 0; i <= static_cast<int>(JobState::expired); ++i) {
        if (!names.empty()) names += ", ";
        names += to_string(static_cast<JobState>(i));
    }
    return names;
}

Result<JobQuery> parse_job_query(std::string_view query_string) {
    auto params = parse_query(query_string);
    if (!params) return params.error();
    JobQuery query;
    query.limit = kDefaultLimit;
    for (const auto& [name, value] : *params) {
        if (name == "state") {
            // A comma list: any of these states.
            std::string_view rest = value;
            while (!rest.empty() || query.states.empty()) {
                const auto comma = std::min(rest.find(','), rest.size());
                const std::string one(rest.substr(0, comma));
                rest.remove_prefix(std::min(comma + 1, rest.size()));
                const auto state = parse_job_state(one);
                if (!state)
                    return fail("state '" + one + "' is not a job state; use one of " +
                                job_state_names() + " (several: state=failed,timed_out)");
                query.states.push_back(*state);
            }
        } else if (name == "agent" || name == "host") {
            query.agent = value;
        } else if (name == "command") {
            query.command = value;
        } else if (name == "since" || name == "until") {
            auto ms = number_param(name, value, "a time in milliseconds since 1970");
            if (!ms) return ms.error();
            (name == "since" ? query.since_ms : query.until_ms) = *ms;
        } else if (name == "requester") {
            query.requester = value;
        } else if (name == "before") {
            auto before = number_param(name, value, "a job id (a positive integer)");
            if (!before) return before.error();
            query.before_id = *before;
        } else if (name == "limit") {
            auto limit = limit_param(value);
            if (!limit) return limit.error();
            query.limit = *limit;
        } else {
            return fail("unknown query parameter '" + name +
                        "'; expected state, agent (or host), requester, command, since, until, "
                        "before or limit");
        }
    }
    return query;
}

// The submit fields that are a string or null (absent); nullptr for any other key.
std::string* optional_string_field(SubmitRequest& request, std::string_view key) {
    if (key == "cwd") return &request.cwd;
    if (key == "user") return &request.run_as_user;
    if (key == "group") return &request.run_as_group;
    return nullptr;
}

Result<SubmitRequest> parse_submit(std::string_view body) {
    InputJson doc;
    try {
        doc = InputJson::parse(body);
    } catch (const InputJson::exception& e) {
        // what() reads "[json.exception.parse_error.101] parse error at line 1, ...".
        std::string_view what = e.what();
        if (const auto bracket = what.find("] "); bracket != std::string_view::npos) {
            what.remove_prefix(bracket + 2);
        }
        return fail("the body is not valid JSON: " + std::string(what));
    }
    if (!doc.is_object()) {
        return fail(
            "the body must be a JSON object such as {\"target\": \"web-*\", \"argv\": "
            "[\"uptime\"]}");
    }

    SubmitRequest request;
    bool has_target = false;
    bool has_argv = false;
    for (const auto& [key, value] : doc.items()) {
        if (key == "target") {
            if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
                return fail("target must be a non-empty string, such as \"web-*\"");
            }
            request.target = value.get<std::string>();
            has_target = true;
        } else if (key == "argv") {
            if (!value.is_array() || value.empty()) {
                return fail("argv must be a non-empty array of strings, such as [\"uptime\"]");
            }
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (!value[i].is_string()) {
                    return fail("argv[" + std::to_string(i) + "] must be a string");
                }
                request.argv.push_back(value[i].get<std::string>());
            }
            has_argv = true;
        } else if (key == "timeout_ms") {
            if (value.is_null()) continue;
            const bool positive =
                value.is_number_unsigned()
                    ? value.get<std::uint64_t>() > 0 &&
                          value.get<std::uint64_t>() <=
                              std::uint64_t(std::numeric_limits<std::int64_t>::max())
                    : value.is_number_integer() && value.get<std::int64_t>() > 0;
            if (!positive) return fail("timeout_ms must be a positive integer (milliseconds)");
            request.timeout_ms = value.is_number_unsigned()
                                     ? static_cast<std::int64_t>(value.get<std::uint64_t>())
                                     : value.get<std::int64_t>();
        } else if (key == "env") {
            if (value.is_null()) continue;
            if (!value.is_object()) return fail("env must be an object of strings");
            for (const auto& [name, text] : value.items()) {
                if (!text.is_string()) return fail("env." + name + " must be a string");
                request.env[name] = text.get<std::string>();
            }
        } else if (key == "batch") {  // a rollout: docs/scheduling.md, "Batches"
            if (value.is_null()) continue;
            if (!value.is_string() && !value.is_number_integer())
                return fail("batch must be a number of hosts (2) or a percentage (\"25%\")");
            auto batch =
                parse_batch_size(value.is_string() ? value.get<std::string>() : value.dump());
            if (!batch) return batch.error();
            request.batch = *batch;
        } else if (key == "batch_wait_ms") {
            if (value.is_null()) continue;
            if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
                std::chrono::milliseconds(value.get<std::int64_t>()) > kMaxDuration)
                return fail("batch_wait_ms must be a non-negative integer (milliseconds)");
            request.batch_wait = std::chrono::milliseconds(value.get<std::int64_t>());
        } else if (key == "fail_fast") {
            if (value.is_null()) continue;
            if (!value.is_boolean()) return fail("fail_fast must be true or false");
            request.fail_fast = value.get<bool>();
        } else if (std::string* field = optional_string_field(request, key)) {
            if (value.is_null()) continue;
            if (!value.is_string()) return fail(key + " must be a string");
            *field = value.get<std::string>();
        } else {
            return fail("unknown field '" + key +
                        "'; expected target, argv, timeout_ms, env, cwd, user, group, batch, "
                        "batch_wait_ms or fail_fast");
        }
    }
    if (!has_target) return fail("target is required: a target expression such as \"web-*\"");
    if (!has_argv) return fail("argv is required: a non-empty array of strings");
    return request;
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<AuditQuery> parse_audit_query(std::string_view query_string) {
    auto params = parse_query(query_string);
    if (!params) return params.error();
    AuditQuery query;
    query.limit = kDefaultLimit;
    for (const auto& [name, value] : *params) {
        if (name == "kind") {
            query.kind = value;
        } else if (name == "order") {
            if (value != "newest" && value != "oldest")
                return fail("order must be newest or oldest, not '" + value + "'");
            query.oldest_first = value == "oldest";
        } else if (name == "since") {
            auto since = number_param(name, value, "a time in milliseconds since 1970", 0);
            if (!since) return since.error();
            query.since_ms = *since;
        } else if (name == "before" || name == "after") {
            auto id = number_param(name, value, "an audit row id (a positive integer)", 0);
            if (!id) return id.error();
            (name == "before" ? query.before_id : query.after_id) = *id;
        } else if (name == "limit") {
            auto limit = limit_param(value);
            if (!limit) return limit.error();
            query.limit = *limit;
        } else {
            return fail("unknown query parameter '" + name +
                        "'; expected kind, order, since, before, after or limit");
        }
    }
    return query;
}

Result<NewApiToken> parse_new_token(std::string_view body) {
    InputJson doc = InputJson::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return fail(
            "the body must be a JSON object such as {\"name\": \"ci\", \"identity\": "
            "\"local:ci\", \"ttl\": \"30d\"}");
    NewApiToken token;
    bool has_name = false, has_identity = false;
    for (const auto& [key, value] : doc.items()) {
        if (key == "name" || key == "identity") {
            if (!value.is_string()) return fail(key + " must be a string");
            (key == "name" ? token.name : token.identity) = value.get<std::string>();
            (key == "name" ? has_name : has_identity) = true;
        } else if (key == "ttl") {
            if (value.is_null()) continue;
            if (!value.is_string()) return fail("ttl must be a duration such as \"30d\"");
            auto ttl = parse_duration(value.get<std::string>());
            if (!ttl) return fail("ttl: " + ttl.error().message);
            token.ttl_ms = ttl->count();
        } else {
            return fail("unknown field '" + key + "'; expected name, identity or ttl");
        }
    }
    if (!has_name) return fail("name is required: the token's name, such as \"ci\"");
    if (!has_identity)
        return fail("identity is required: who the token acts as, such as \"local:ci\"");
    return token;
}

}  // namespace

Router::Router(JobService& jobs, std::string_view admin_token, Defer defer)
    : jobs_(jobs),
      has_token_(!admin_token.empty()),
      token_digest_(sha256(admin_token)),
      defer_(std::move(defer)) {}

// The one place a bearer token becomes an identity: the admin token is token:admin, an API
// token its bound identity (TokenRegistry answers from memory, so this never waits).
Result<std::string> Router::authenticate(std::string_view authorization) const {
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.size() <= kScheme.size() ||
        !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
        return fail("the Authorization header must be 'Bearer <token>'");
    }
    return authenticate_secret(authorization.substr(kScheme.size()));
}

Result<std::string> Router::authenticate_secret(std::string_view secret) const {
    // Comparing digests takes the same time whatever the token's length or content.
    const auto digest = sha256(secret);
    if (has_token_ && CRYPTO_memcmp(digest.data(), token_digest_.data(), digest.size()) == 0)
        return std::string(kAdminTokenIdentity);
    if (tokens_ != nullptr) return tokens_->identity_for(secret);
    return fail("the bearer token is not valid");
}

std::shared_ptr<const Policy> Router::policy() const {
    return policy_ != nullptr ? policy_->current() : no_policy_;
}

bool Router::allowed(const std::string& identity, const std::shared_ptr<Exchange>& exchange,
                     const std::string& permission, const std::vector<target::Host>& hosts,
                     const std::string& subject, Access access) {
    const Decision d = policy()->decide({identity, permission, hosts, ""});
    // An allowed read is not recorded: a page refreshing every few seconds would write a row
    // each time. A denial, and every decision on a change, is.
    if (d.allowed && access == Access::read) return true;
    AuditEvent event{d.allowed ? "policy.allowed" : "policy.denied", identity, subject, {}};
    std::string names;
    for (const auto& host : hosts) names += (names.empty() ? "" : ",") + host.name;
    event.detail = {{"permission", permission}, {"hosts", names}, {"channel", "api"}};
    event.detail[d.allowed ? "role" : "reason"] = d.allowed ? d.role : d.reason;
    (audit_trail_ != nullptr ? *audit_trail_ : no_audit_).record(std::move(event));
    if (!d.allowed) exchange->respond(error_response(403, d.reason));
    return d.allowed;
}

void Router::with_job(const Call& call, const std::string& permission,
                      std::function<void(const JobDetail&)> then) {
    // The Call refers to the request, which may be gone when the store answers: copy.
    jobs_.job(call.job_id, [this, identity = call.identity, exchange = call.exchange, permission,
                            then = std::move(then)](Result<JobDetail> d) {
        if (!d) return exchange->respond(job_error_response(d.error()));
        if (!may_act_on(identity, exchange, permission, d->job.id, d->job.requester)) return;
        then(*d);
    });
}

bool Router::may_act_on(const std::string& identity, const std::shared_ptr<Exchange>& exchange,
                        const std::string& permission, std::int64_t job_id,
                        const std::string& requester) {
    // Everyone may see and cancel their own jobs; someone else's needs permission.
    return requester == identity ||
           allowed(identity, exchange, permission, {}, "job:" + std::to_string(job_id),
                   permission == "jobs.read" ? Access::read : Access::change);
}

void Router::handle(const Request& request, const std::shared_ptr<Exchange>& exchange) {
    const auto question = std::min(request.target.find('?'), request.target.size());
    const std::string_view path = std::string_view(request.target).substr(0, question);
    const std::string_view query =
        std::string_view(request.target).substr(std::min(question + 1, request.target.size()));

    if (path == "/healthz") {
        if (request.method != "GET") {
            auto response = error_response(405, "/healthz allows only GET");
            response.headers.emplace_back("Allow", "GET");
            return exchange->respond(std::move(response));
        }
        return exchange->respond(Response{.content_type = "text/plain", .body = "ok\n"});
    }
    if (path.starts_with("/hooks/")) return post_hook(request, path.substr(7), exchange);
    if (path.starts_with("/chat/")) return post_chat_inbound(request, path, exchange);
    if (path.starts_with("/auth/")) return handle_auth(request, path, exchange);
    if (path == "/metrics") return serve_metrics(request, exchange);
    if (path == "/" || path == "/ui" || path.starts_with("/ui/"))
        return serve_ui(request, path, exchange);
    if (path != "/api" && !path.starts_with("/api/")) {
        return exchange->respond(error_response(404, "there is no " + std::string(path)));
    }
    // A bearer token, or a browser session's cookie (which answers 401 or 403 itself).
    auto identity = caller(request, exchange);
    if (!identity) return;

    const Route* route = nullptr;
    std::string allowed;
    std::string_view id_text;
    for (const auto& candidate : kRoutes) {
        if (!matches(candidate.pattern, path, id_text)) continue;
        if (candidate.method == request.method) route = &candidate;
        allowed += allowed.empty() ? "" : ", ";
        allowed += candidate.method;
    }
    if (allowed.empty()) {
        return exchange->respond(error_response(404, "there is no " + std::string(path)));
    }
    if (route == nullptr) {
        auto response = error_response(405, std::string(path) + " allows only " + allowed);
        response.headers.emplace_back("Allow", allowed);
        return exchange->respond(std::move(response));
    }

    std::int64_t job_id = 0;
    std::string_view name;
    if (route->pattern.find("{name}") != std::string_view::npos) name = id_text;
    if (route->pattern.find("{id}") != std::string_view::npos) {
        const auto id = parse_int<std::int64_t>(id_text);
        if (!id || *id < 1) {
            return exchange->respond(error_response(
                400, "'" + std::string(id_text) + "' is not a job id (a positive integer)"));
        }
        job_id = *id;
    }
    if (!route->permission.empty() &&
        !this->allowed(*identity, exchange, std::string(route->permission), {},
                       std::string(route->pattern),
                       request.method == "GET" ? Access::read : Access::change))
        return;
    (this->*route->handler)(Call{request, query, job_id, exchange, name, std::move(*identity)});
}

// Agents by name, a page at a time; the keys (pending, accepted, revoked) come with the first
// page only.
void Router::get_agents(const Call& call) {
    auto page = parse_name_page(call.query);
    if (!page) return call.exchange->respond(error_response(400, page.error().message));
    auto agents = jobs_.agents();
    std::sort(agents.begin(), agents.end(),
              [](const AgentInfo& a, const AgentInfo& b) { return a.name < b.name; });
    Json body = name_page_json(
        agents, *page, "agents", [](const AgentInfo& a) -> const std::string& { return a.name; },
        agent_json);
    Json keys = Json::array();
    if (agent_admin_ != nullptr && page->after.empty())
        for (const auto& key : agent_admin_->agent_keys())
            keys.push_back(
                Json{{"name", key.name}, {"state", key.state}, {"fingerprint", key.fingerprint}});
    body["keys"] = std::move(keys);
    call.exchange->respond(json_response(200, body));
}

// {"labels": {"k": "v"}, "ttl_ms": 3600000, "uses": 1} -> {"token": "hle1...", ...}
void Router::post_agent_token(const Call& call) {
    if (agent_admin_ == nullptr)
        return call.exchange->respond(error_response(404, "enrollment is not enabled"));
    if (!allowed(call.identity, call.exchange, "agents.manage", {}, "agents")) return;
    InputJson body = InputJson::parse(call.request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return call.exchange->respond(error_response(400, "the body must be a JSON object"));
    TokenRequest request;
    request.actor = call.identity;
    if (auto labels = body.find("labels"); labels != body.end()) {
        if (!labels->is_object())
            return call.exchange->respond(
                error_response(400, "labels must be an object of strings"));
        for (const auto& [k, v] : labels->items()) {
            if (!v.is_string())
                return call.exchange->respond(
                    error_response(400, "label " + k + ": the value must be a string"));
            request.labels[k] = v.get<std::string>();
        }
    }
    if (auto ttl = body.find("ttl_ms"); ttl != body.end()) {
        if (!ttl->is_number_integer())
            return call.exchange->respond(error_response(400, "ttl_ms must be an integer"));
        request.ttl_ms = ttl->get<std::int64_t>();
    }
    if (auto uses = body.find("uses"); uses != body.end()) {
        if (!uses->is_number_integer() || uses->get<std::int64_t>() < 1 ||
            uses->get<std::int64_t>() > 10000)
            return call.exchange->respond(
                error_response(400, "uses must be an integer from 1 to 10000"));
        request.uses = uses->get<std::uint32_t>();
    }
    auto created = agent_admin_->create_token(request);
    if (!created) return call.exchange->respond(error_response(400, created.error().message));
    Json labels = Json::object();
    for (const auto& [k, v] : created->labels) labels[k] = v;
    call.exchange->respond(json_response(201, Json{{"token", created->token},
                                                   {"id", created->id},
                                                   {"expires_ms", created->expires_ms},
                                                   {"uses", created->uses},
                                                   {"labels", std::move(labels)}}));
}

namespace {

std::optional<std::string> name_in(const std::string& body_text) {
    InputJson body = InputJson::parse(body_text, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return std::nullopt;
    auto name = body.find("name");
    if (name == body.end() || !name->is_string()) return std::nullopt;
    return name->get<std::string>();
}

}  // namespace

void Router::post_agent_accept(const Call& call) {
    change_agent_key(call, true);
}

void Router::post_agent_revoke(const Call& call) {
    change_agent_key(call, false);
}

// {"name": "web-01"} -> {"name", "state": "accepted" or "revoked", "fingerprint"}
void Router::change_agent_key(const Call& call, bool accept) {
    if (agent_admin_ == nullptr)
        return call.exchange->respond(error_response(404, "enrollment is not enabled"));
    if (!allowed(call.identity, call.exchange, "agents.manage", {}, "agents")) return;
    auto name = name_in(call.request.body);
    if (!name)
        return call.exchange->respond(
            error_response(400, "the body must be a JSON object with a string \"name\""));
    auto changed = accept ? agent_admin_->accept(*name, call.identity)
                          : agent_admin_->revoke(*name, call.identity);
    // Nothing pending to accept is a conflict with the key's state; no agent to revoke is 404.
    if (!changed)
        return call.exchange->respond(error_response(accept ? 409 : 404, changed.error().message));
    call.exchange->respond(json_response(200, Json{{"name", changed->name},
                                                   {"state", changed->state},
                                                   {"fingerprint", changed->fingerprint}}));
}

void Router::get_jobs(const Call& call) {
    auto query = parse_job_query(call.query);
    if (!query) return call.exchange->respond(error_response(400, query.error().message));
    // Everyone may list their own jobs; anyone else's needs jobs.read. Without it, a list
    // of everyone's is the caller's own.
    if (query->requester.empty()) {
        if (!policy()->decide({call.identity, "jobs.read", {}, ""}).allowed)
            query->requester = call.identity;
    } else if (query->requester != call.identity &&
               !allowed(call.identity, call.exchange, "jobs.read", {}, "jobs:" + query->requester,
                        Access::read)) {
        return;
    }
    const auto limit = static_cast<std::size_t>(query->limit);
    jobs_.list_jobs(*query, [exchange = call.exchange, limit](Result<std::vector<Job>> jobs) {
        if (!jobs) return exchange->respond(error_response(500, jobs.error().message));
        Json list = Json::array();
        for (const auto& job : *jobs) list.push_back(job_json(job));
        // A full page may have more after it; a short one is the last.
        const Json next = jobs->size() >= limit ? Json(jobs->back().id) : Json(nullptr);
        exchange->respond(
            json_response(200, Json{{"jobs", std::move(list)}, {"next_before", next}}));
    });
}

void Router::post_jobs(const Call& call) {
    auto request = parse_submit(call.request.body);
    if (!request) return call.exchange->respond(error_response(400, request.error().message));
    request->requester = call.identity;
    request->source = "api";
    auto expr = target::TargetExpr::parse(
        request->target, policy_ != nullptr ? policy_->groups() : target::Groups{});
    if (!expr) return call.exchange->respond(error_response(400, expr.error().message));
    std::vector<target::Host> hosts;
    for (const AgentInfo& agent : jobs_.agents())
        if (expr->matches({agent.name, agent.labels})) hosts.push_back({agent.name, agent.labels});
    if (!allowed(call.identity, call.exchange, "run.adhoc", hosts, "api:run")) return;
    auto reply = jobs_.submit(*request);
    if (!reply) return call.exchange->respond(error_response(400, reply.error().message));
    auto response = json_response(
        201,
        Json{{"job", reply->job_id}, {"matched", reply->matched}, {"offline", reply->offline}});
    response.headers.emplace_back("Location", "/api/v1/jobs/" + std::to_string(reply->job_id));
    // 201 promises the job exists: only once it is committed.
    jobs_.when_stored([exchange = call.exchange, response = std::move(response)]() mutable {
        exchange->respond(std::move(response));
    });
}

// The job, its runs, and its approval trail when it needed one ("approval": null otherwise).
void Router::get_job(const Call& call) {
    with_job(call, "jobs.read", [this, exchange = call.exchange](const JobDetail& detail) {
        Json runs = Json::array();
        for (const auto& run : detail.runs) runs.push_back(run_json(run));
        auto body = std::make_shared<Json>(Json{{"job", job_json(detail.job)},
                                                {"runs", std::move(runs)},
                                                {"not_started", not_started_json(detail)},
                                                {"approval", nullptr}});
        if (approvals_ == nullptr) return exchange->respond(json_response(200, *body));
        // An approval's id is its job's: the newest approval at or below the job's id is the
        // job's own, if it has one.
        ApprovalQuery query{.states = {ApprovalState::pending, ApprovalState::granted,
                                       ApprovalState::denied, ApprovalState::expired},
                            .before_job_id = detail.job.id + 1,
                            .limit = 1};
        approvals_->list_approvals(
            query, [exchange, body, id = detail.job.id](Result<std::vector<Approval>> found) {
                if (!found) return exchange->respond(error_response(500, found.error().message));
                if (!found->empty() && found->front().job_id == id)
                    (*body)["approval"] = approval_json(found->front());
                exchange->respond(json_response(200, *body));
            });
    });
}

void Router::get_output(const Call& call) {
    // With a query: one run's bytes, a range at a time (get_output_range).
    if (!call.query.empty()) return get_output_range(call);
    with_job(call, "jobs.read",
             [this, exchange = call.exchange, id = call.job_id](const JobDetail&) {
                 jobs_.output(id, [exchange](Result<std::vector<OutputChunk>> chunks) {
                     if (!chunks) return exchange->respond(job_error_response(chunks.error()));
                     Json list = Json::array();
                     for (const auto& chunk : *chunks) list.push_back(output_json(chunk));
                     exchange->respond(json_response(200, Json{{"output", std::move(list)}}));
                 });
             });
}

void Router::get_events(const Call& call) {
    auto start = [this, exchange = call.exchange, id = call.job_id,
                  websocket = call.request.websocket_upgrade] {
        EventStream::start(jobs_, id, exchange, websocket, defer_);
    };
    // A job still going is checked against what the scheduler holds: a client that follows
    // the job it just submitted waits for no read before its stream starts.
    if (auto requester = jobs_.active_requester(call.job_id)) {
        if (may_act_on(call.identity, call.exchange, "jobs.read", call.job_id, *requester)) start();
        return;
    }
    with_job(call, "jobs.read", [start](const JobDetail&) { start(); });
}

void Router::post_cancel(const Call& call) {
    with_job(call, "jobs.cancel.any",
             [this, exchange = call.exchange, id = call.job_id](const JobDetail&) {
                 const auto cancelled = jobs_.cancel(id);
                 if (!cancelled) {
                     const auto& message = cancelled.error().message;
                     return exchange->respond(
                         error_response(message.starts_with("no job") ? 404 : 409, message));
                 }
                 exchange->respond(json_response(202, Json{{"job", id}, {"state", "cancelling"}}));
             });
}

void Router::post_policy_reload(const Call& call) {
    if (!allowed(call.identity, call.exchange, "policy.reload", {}, "policy")) return;
    if (policy_ == nullptr)
        return call.exchange->respond(error_response(
            409, "no policy file is configured ([controller] policy_file in controller.toml)"));
    policy_->reload(call.identity, [this, exchange = call.exchange](Result<void> done) {
        if (!done)
            return exchange->respond(
                error_response(422, "the policy file was refused; the policy in force stays:\n" +
                                        done.error().message));
        exchange->respond(json_response(200, Json{{"reloaded", policy_->path()}}));
    });
}

// The terminal chat: one message in, its replies streamed out as NDJSON lines
// {"type":"reply","text":...}; the response ends after the last reply (for a job, its summary).
void Router::post_chat(const Call& call) {
    if (chat_ == nullptr) return call.exchange->respond(error_response(404, "chat is not enabled"));
    // Speaking as any local:NAME is an admin's power: the chat then decides as that NAME.
    const auto roles = policy()->roles_of(call.identity);
    if (std::find(roles.begin(), roles.end(), kAdminRole) == roles.end())
        return call.exchange->respond(error_response(
            403, "only an admin may speak in the terminal chat as another identity; " +
                     call.identity + " holds no admin role"));
    InputJson body = InputJson::parse(call.request.body, nullptr, false);
    if (body.is_discarded())  // invalid UTF-8 in a string lands here too
        return call.exchange->respond(
            error_response(400, "the body is not valid JSON (strings must be UTF-8)"));
    if (!body.is_object())
        return call.exchange->respond(error_response(400, "the body must be a JSON object"));
    auto identity = body.find("identity");
    auto text = body.find("text");
    if (identity == body.end() || !identity->is_string())
        return call.exchange->respond(
            error_response(400, "identity must be a string such as \"local:alice\""));
    if (text == body.end() || !text->is_string())
        return call.exchange->respond(error_response(400, "text must be a string"));
    const std::string who = identity->get<std::string>();
    const bool local =
        who.size() > 6 && who.size() <= 70 && who.rfind("local:", 0) == 0 &&
        who.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
                              6) == std::string::npos;
    if (!local)
        return call.exchange->respond(
            error_response(400, "identity must be local:NAME (letters, digits, '.', '_', '-')"));
    auto gone = std::make_shared<bool>(false);
    if (!call.exchange->start_stream("application/x-ndjson", [gone] { *gone = true; })) return;
    chat_->converse(
        who, text->get<std::string>(),
        [exchange = call.exchange, gone](const std::string& reply) {
            if (!*gone)
                exchange->send(Json{{"type", "reply"}, {"text", reply}}.dump(
                                   -1, ' ', false, Json::error_handler_t::replace) +
                               "\n");
        },
        [exchange = call.exchange, gone] {
            if (!*gone) exchange->end_stream();
        });
}

void Router::get_approvals(const Call& call) {
    if (approvals_ == nullptr)
        return call.exchange->respond(error_response(404, "approvals are not enabled"));
    auto params = parse_query(call.query);
    if (!params) return call.exchange->respond(error_response(400, params.error().message));
    ApprovalQuery query;
    int& limit = query.limit;
    limit = kDefaultLimit;
    for (const auto& [name, value] : *params) {
        if (name == "state") {
            // "decided": the history, whatever the decision; else one state or a comma list.
            std::string_view rest = value;
            while (!rest.empty() || query.states.empty()) {
                const auto comma = std::min(rest.find(','), rest.size());
                const std::string one(rest.substr(0, comma));
                rest.remove_prefix(std::min(comma + 1, rest.size()));
                if (one == "decided") {
                    query.states.insert(
                        query.states.end(),
                        {ApprovalState::granted, ApprovalState::denied, ApprovalState::expired});
                    continue;
                }
                const auto state = parse_approval_state(one);
                if (!state)
                    return call.exchange->respond(error_response(
                        400, "state '" + one +
                                 "' is not an approval state; use pending, granted, denied, "
                                 "expired or decided (the last three)"));
                query.states.push_back(*state);
            }
        } else if (name == "before") {
            auto before = number_param(name, value, "a job id (a positive integer)");
            if (!before) return call.exchange->respond(error_response(400, before.error().message));
            query.before_job_id = *before;
        } else if (name == "limit") {
            auto n = limit_param(value);
            if (!n) return call.exchange->respond(error_response(400, n.error().message));
            limit = *n;
        } else {
            return call.exchange->respond(error_response(
                400, "unknown query parameter '" + name + "'; expected state, before or limit"));
        }
    }
    approvals_->list_approvals(
        query, [exchange = call.exchange,
                limit = static_cast<std::size_t>(limit)](Result<std::vector<Approval>> list) {
            if (!list) return exchange->respond(error_response(500, list.error().message));
            Json out = Json::array();
            for (const Approval& a : *list) out.push_back(approval_json(a));
            // A full page may have more after it: the job id to page from (before=).
            const Json next = list->size() >= limit ? Json(list->back().job_id) : Json(nullptr);
            exchange->respond(
                json_response(200, Json{{"approvals", std::move(out)}, {"next_before", next}}));
        });
}

namespace {

// 404 for an approval that is not pending, 403 for a refused approver.
Response decision_error(const Error& error) {
    const auto& message = error.message;
    return error_response(message.starts_with("no pending approval") ? 404 : 403, message);
}

}  // namespace

void Router::post_approve(const Call& call) {
    if (approvals_ == nullptr)
        return call.exchange->respond(error_response(404, "approvals are not enabled"));
    // As the caller: the approval service checks that identity is an approver of the group.
    auto approved = approvals_->approve(call.job_id, call.identity);
    if (!approved) return call.exchange->respond(decision_error(approved.error()));
    call.exchange->respond(json_response(200, Json{{"approval", approval_json(*approved)}}));
}

void Router::post_deny(const Call& call) {
    if (approvals_ == nullptr)
        return call.exchange->respond(error_response(404, "approvals are not enabled"));
    InputJson body = InputJson::parse(call.request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return call.exchange->respond(
            error_response(400, "the body must be a JSON object such as {\"reason\": \"...\"}"));
    auto reason = body.find("reason");
    if (reason == body.end() || !reason->is_string())
        return call.exchange->respond(error_response(400, "reason must be a string: say why"));
    auto denied = approvals_->deny(call.job_id, call.identity, reason->get<std::string>());
    if (!denied) {
        const auto& message = denied.error().message;
        bool bad_reason = message.starts_with("say why") || message.starts_with("the reason");
        return call.exchange->respond(bad_reason ? error_response(400, message)
                                                 : decision_error(denied.error()));
    }
    call.exchange->respond(json_response(200, Json{{"approval", approval_json(*denied)}}));
}

}  // namespace hostline::controller::http

namespace hostline::controller::http {

void Router::get_audit(const Call& call) {
    if (audit_ == nullptr)
        return call.exchange->respond(error_response(404, "audit is not enabled"));
    auto query = parse_audit_query(call.query);
    if (!query) return call.exchange->respond(error_response(400, query.error().message));
    const auto limit = static_cast<std::size_t>(query->limit);
    const bool forward = query->oldest_first;
    audit_->list(*query, [exchange = call.exchange, limit,
                          forward](Result<std::vector<AuditRow>> rows) {
        if (!rows) return exchange->respond(error_response(500, rows.error().message));
        Json list = Json::array();
        for (const auto& row : *rows) list.push_back(audit_row_json(row));
        // A full page may have more after it: the id to page from (before= or after=).
        const Json next = rows->size() >= limit ? Json(rows->back().id) : Json(nullptr);
        exchange->respond(json_response(200, Json{{"events", std::move(list)},
                                                  {forward ? "next_after" : "next_before", next}}));
    });
}

void Router::get_audit_verify(const Call& call) {
    if (audit_ == nullptr)
        return call.exchange->respond(error_response(404, "audit is not enabled"));
    if (!call.query.empty())
        return call.exchange->respond(error_response(400, "/api/v1/audit/verify takes no query"));
    audit_->verify([exchange = call.exchange](Result<AuditVerification> verification) {
        if (!verification)
            return exchange->respond(error_response(500, verification.error().message));
        exchange->respond(json_response(200, verification_json(*verification)));
    });
}

void Router::get_tokens(const Call& call) {
    if (tokens_ == nullptr)
        return call.exchange->respond(error_response(404, "tokens are not enabled"));
    auto page = parse_name_page(call.query);
    if (!page) return call.exchange->respond(error_response(400, page.error().message));
    const auto now = now_ms();
    auto tokens = tokens_->list();
    std::sort(tokens.begin(), tokens.end(),
              [](const ApiTokenRecord& a, const ApiTokenRecord& b) { return a.name < b.name; });
    call.exchange->respond(
        json_response(200, name_page_json(
                               tokens, *page, "tokens",
                               [](const ApiTokenRecord& t) -> const std::string& { return t.name; },
                               [now](const ApiTokenRecord& t) { return token_json(t, now); })));
}

void Router::post_tokens(const Call& call) {
    if (tokens_ == nullptr)
        return call.exchange->respond(error_response(404, "tokens are not enabled"));
    auto request = parse_new_token(call.request.body);
    if (!request) return call.exchange->respond(error_response(400, request.error().message));
    // A token is as strong as its identity's roles: tokens.manage alone mints tokens for the
    // caller only; a token for anyone else needs the admin role.
    if (request->identity != call.identity) {
        const auto roles = policy()->roles_of(call.identity);
        if (std::find(roles.begin(), roles.end(), kAdminRole) == roles.end())
            return call.exchange->respond(
                error_response(403, "you (" + call.identity +
                                        ") may create tokens only for yourself; a token "
                                        "for " +
                                        request->identity + " needs the admin role"));
    }
    request->created_by = call.identity;
    auto created = tokens_->create(*request);
    if (!created) {
        const auto& message = created.error().message;
        return call.exchange->respond(
            error_response(message.find("exists") != std::string::npos ? 409 : 400, message));
    }
    auto response = json_response(
        201, Json{{"token", token_json(created->token, now_ms())}, {"secret", created->secret}});
    response.headers.emplace_back("Cache-Control", "no-store");
    call.exchange->respond(std::move(response));
}

void Router::delete_token(const Call& call) {
    if (tokens_ == nullptr)
        return call.exchange->respond(error_response(404, "tokens are not enabled"));
    const std::string name(call.name);
    auto revoked = tokens_->revoke(name, call.identity);
    if (!revoked) {
        const auto& message = revoked.error().message;
        return call.exchange->respond(
            error_response(message.starts_with("there is no") ? 404 : 409, message));
    }
    call.exchange->respond(json_response(200, Json{{"token", name}, {"state", "revoked"}}));
}

}  // namespace hostline::controller::http

namespace hostline::controller::http {

namespace {

constexpr std::int64_t kMaxRangeLength = 1 << 20;
// A download's piece: what it holds in memory at a time, and a store read's worth.
constexpr std::int64_t kDownloadPiece = 1 << 20;

Result<OutputRange> parse_output_range(std::string_view query_string, bool download) {
    auto params = parse_query(query_string);
    if (!params) return params.error();
    OutputRange range{.length = kMaxRangeLength};  // at most 1 MiB a call
    for (const auto& [name, value] : *params) {
        if (name == "host") {
            range.host = value;
        } else if (name == "stream") {
            if (value != "stdout" && value != "stderr" && value != "combined")
                return fail("stream must be stdout, stderr or combined, not '" + value + "'");
            range.stream = value;
        } else if (!download && (name == "offset" || name == "length")) {
            const auto number = parse_int<std::int64_t>(value);
            if (!number || *number < 0 || (name == "length" && *number > kMaxRangeLength))
                return fail(name + " must be an integer from 0" +
                            (name == "length" ? " to " + std::to_string(kMaxRangeLength) : "") +
                            ", not '" + value + "'");
            (name == "offset" ? range.offset : range.length) = *number;
        } else {
            return fail("unknown query parameter '" + name + "'; expected host, stream" +
                        (download ? "" : ", offset or length"));
        }
    }
    if (range.host.empty()) return fail("host is required: the agent whose run's output to read");
    return range;
}

bool has_run_on(const JobDetail& detail, const std::string& host) {
    return std::any_of(detail.runs.begin(), detail.runs.end(),
                       [&](const RunRecord& run) { return run.agent == host; });
}

Response no_run_on(std::int64_t job_id, const std::string& host) {
    return error_response(404, "job " + std::to_string(job_id) + " has no run on '" + host + "'");
}

}  // namespace

// GET /api/v1/jobs/{id}/output?host=NAME[&stream=..][&offset=N][&length=M]: a byte range of
// one run's stored output, with the total so a client can page or follow.
void Router::get_output_range(const Call& call) {
    // Permission first: a caller who may not read the job learns nothing from its query.
    with_job(call, "jobs.read",
             [this, exchange = call.exchange, id = call.job_id,
              query = std::string(call.query)](const JobDetail& d) {
                 auto range = parse_output_range(query, false);
                 if (!range) return exchange->respond(error_response(400, range.error().message));
                 if (!has_run_on(d, range->host))
                     return exchange->respond(no_run_on(id, range->host));
                 jobs_.output_range(
                     id, *range, [exchange, range = *range, id](Result<OutputSlice> slice) {
                         if (!slice) return exchange->respond(job_error_response(slice.error()));
                         const auto size = static_cast<std::int64_t>(slice->bytes.size());
                         exchange->respond(json_response(
                             200, Json{{"job", id},
                                       {"host", range.host},
                                       {"stream", range.stream},
                                       {"offset", std::min(range.offset, slice->total)},
                                       {"length", size},
                                       {"total", slice->total},
                                       {"data", std::move(slice->bytes)}}));
                     });
             });
}

// GET /api/v1/jobs/{id}/output/download?host=NAME[&stream=..]: the raw bytes as a file,
// streamed a piece at a time. The first piece is read before the 200, so an unknown job or a
// failed read is still an error response.
void Router::get_output_download(const Call& call) {
    with_job(call, "jobs.read",
             [this, exchange = call.exchange, id = call.job_id,
              query = std::string(call.query)](const JobDetail& d) {
                 auto range = parse_output_range(query, true);
                 if (!range) return exchange->respond(error_response(400, range.error().message));
                 // Also what keeps the file name to an agent's name.
                 if (!has_run_on(d, range->host))
                     return exchange->respond(no_run_on(id, range->host));
                 range->length = kDownloadPiece;
                 jobs_.output_range(
                     id, *range, [this, exchange, range = *range, id](Result<OutputSlice> first) {
                         if (!first) return exchange->respond(job_error_response(first.error()));
                         auto gone = std::make_shared<bool>(false);
                         if (!exchange->start_stream(
                                 "text/plain; charset=utf-8", [gone] { *gone = true; },
                                 {{"Content-Disposition", "attachment; filename=\"job-" +
                                                              std::to_string(id) + "-" +
                                                              range.host + ".log\""}}))
                             return;
                         send_output_piece(exchange, gone, id, range, first->total,
                                           std::move(*first));
                     });
             });
}

// Sends one piece of a download and reads the next once it is written: a slow reader holds
// one piece, not the whole output. The download ends at the total the first read found, the
// output as it was when the download began (a running job's grows meanwhile). Each read
// resumes where the one before left off, so the download reads the output once.
void Router::send_output_piece(const std::shared_ptr<Exchange>& exchange,
                               const std::shared_ptr<bool>& gone, std::int64_t job_id,
                               OutputRange range, std::int64_t total, OutputSlice piece) {
    range.offset += static_cast<std::int64_t>(piece.bytes.size());
    range.resume = piece.next;
    const bool last = piece.bytes.empty() || range.offset >= total || !piece.next;
    if (!piece.bytes.empty()) exchange->send(std::move(piece.bytes));
    if (last) return exchange->end_stream();
    range.length = std::min(kDownloadPiece, total - range.offset);
    exchange->when_written([this, exchange, gone, job_id, range, total] {
        if (*gone) return;
        jobs_.output_range(
            job_id, range, [this, exchange, gone, job_id, range, total](Result<OutputSlice> piece) {
                if (*gone) return;
                if (!piece) return exchange->abort_stream();  // the 200 is sent: cut it short
                send_output_piece(exchange, gone, job_id, range, total, std::move(*piece));
            });
    });
}

}  // namespace hostline::controller::http

namespace hostline::controller::http {

// GET /api/v1/audit/export: every audit row, oldest first, one JSON object a line with its
// prev_hash and hash, so that a copy can be checked offline. Streamed a page at a time: the
// next page is read only once the previous one is queued, so the loop never waits on the
// store and a client that goes away stops the reading.
void Router::get_audit_export(const Call& call) {
    if (audit_ == nullptr)
        return call.exchange->respond(error_response(404, "audit is not enabled"));
    if (!call.query.empty())
        return call.exchange->respond(error_response(400, "/api/v1/audit/export takes no query"));
    auto gone = std::make_shared<bool>(false);
    if (!call.exchange->start_stream("application/x-ndjson", [gone] { *gone = true; })) return;
    export_audit_after(call.exchange, gone, 0);
}

void Router::export_audit_after(const std::shared_ptr<Exchange>& exchange,
                                const std::shared_ptr<bool>& gone, std::int64_t after_id) {
    AuditQuery query;
    query.oldest_first = true;
    query.after_id = after_id;
    query.limit = kMaxLimit;
    audit_->list(query, [this, exchange, gone](Result<std::vector<AuditRow>> rows) {
        if (*gone) return;
        if (!rows) {
            // The 200 is sent already: the last line says the export is incomplete.
            exchange->send(Json{{"error", rows.error().message}}.dump() + "\n");
            return exchange->end_stream();
        }
        std::string lines;
        for (const auto& row : *rows)
            lines +=
                audit_row_json(row).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
        exchange->send(std::move(lines));
        if (rows->size() < static_cast<std::size_t>(kMaxLimit)) return exchange->end_stream();
        // The next page is read once this one is written: a slow reader holds one page, not
        // the whole log.
        exchange->when_written([this, exchange, gone, after = rows->back().id] {
            if (!*gone) export_audit_after(exchange, gone, after);
        });
    });
}

}  // namespace hostline::controller::http
