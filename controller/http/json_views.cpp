#include "controller/http/json_views.hpp"

#include <type_traits>
#include <variant>

namespace hostline::controller::http {
namespace {

std::string_view error_code_for(unsigned status) {
    switch (status) {
        case 400:
            return "bad_request";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return "conflict";
        case 413:
        case 431:
            return "too_large";
        case 422:
            return "invalid";
        default:
            return "internal";
    }
}

Json error_json(std::string_view code, std::string_view message) {
    return Json{{"code", code}, {"message", message}};
}

}  // namespace

Json job_json(const Job& job) {
    Json out{
        {"id", job.id},
        {"requester", job.requester},
        {"source", job.source},
        {"target", job.target},
        {"argv", job.argv},
        {"catalog_command", job.command},
        {"user", job.run_as_user},
        {"group", job.run_as_group},
        {"state", to_string(job.state)},
        {"cancel_requested", job.cancel_requested},
        {"timeout_ms", job.timeout_ms},
        {"batch", job.batch.empty() ? Json(nullptr) : Json(job.batch)},
        {"batch_window", job.batch_window},
        {"batch_wait_ms", job.batch_wait_ms},
        {"fail_fast", job.fail_fast},
        {"created_at_ms", job.created_at_ms},
        {"finished_at_ms", job.finished_at_ms},
    };
    if (job.schedule_id != 0) out["schedule"] = job.schedule_id;
    return out;
}

Json not_started_json(const JobDetail& detail) {
    Json hosts = Json::array();
    std::string reason;
    for (const RunRecord& run : detail.runs)
        if (never_started(run)) {
            hosts.push_back(run.agent);
            reason = run.error.substr(kNotStartedPrefix.size());
        }
    return Json{{"hosts", std::move(hosts)},
                {"reason", reason.empty() ? Json(nullptr) : Json(reason)}};
}

Json approval_json(const Approval& a) {
    Json votes = Json::array();
    for (const ApprovalVote& v : a.votes)
        votes.push_back(Json{{"approver", v.approver},
                             {"decision", v.approve ? "approve" : "deny"},
                             {"reason", v.reason},
                             {"at_ms", v.at_ms}});
    return Json{
        {"id", a.job_id},
        {"job", a.job_id},
        {"state", to_string(a.state)},
        {"requester", a.requester},
        {"source", a.source},
        {"target", a.target},
        {"argv", a.argv},
        {"hosts", a.hosts},
        {"group", a.group},
        {"count", a.count},
        {"approvals", a.approvals()},
        {"reason", a.reason},
        {"created_at_ms", a.created_at_ms},
        {"expires_at_ms", a.expires_at_ms},
        {"decided_at_ms", a.decided_at_ms},
        {"votes", std::move(votes)},
    };
}

Json run_json(const RunRecord& run) {
    const auto optional_int = [](const std::optional<int>& value) {
        return value ? Json(*value) : Json(nullptr);
    };
    const bool timed = run.started_at_ms != 0 && run.ended_at_ms != 0;
    return Json{
        {"id", run.id},
        {"job_id", run.job_id},
        {"agent", run.agent},
        {"state", to_string(run.state)},
        {"exit_code", optional_int(run.exit_code)},
        {"signal", optional_int(run.signal)},
        {"started_at_ms", run.started_at_ms},
        {"ended_at_ms", run.ended_at_ms},
        {"duration_ms", timed ? Json(run.ended_at_ms - run.started_at_ms) : Json(nullptr)},
        {"stdout_bytes", run.stdout_bytes},
        {"stderr_bytes", run.stderr_bytes},
        {"stored_bytes", run.stored_bytes},
        {"truncated", run.truncated},
        {"error", run.error},
        {"attempt", run.attempt},
        // Where it waits on the controller (1: next); null when it is not queued.
        {"queue_position", run.queue_position > 0 ? Json(run.queue_position) : Json(nullptr)},
    };
}

Json agent_json(const AgentInfo& agent) {
    return Json{
        {"name", agent.name},
        {"online", agent.online},
        {"hostname", agent.hostname},
        {"version", agent.version},
        {"labels", agent.labels},
        {"facts", agent.facts},
        {"capacity", agent.capacity},
        {"running", agent.running},
        {"last_seen_ms", agent.last_seen_ms},
        {"draining", agent.draining},
    };
}

Json output_json(const OutputChunk& chunk) {
    return Json{
        {"run_id", chunk.run_id}, {"agent", chunk.agent}, {"seq", chunk.seq},
        {"stream", chunk.stream}, {"data", chunk.data},
    };
}

std::string event_line(const JobEvent& event) {
    Json line = std::visit(
        [](const auto& what) -> Json {
            using T = std::decay_t<decltype(what)>;
            if constexpr (std::is_same_v<T, JobEvent::JobChanged>) {
                return Json{{"type", "job"}, {"job", job_json(what.job)}};
            } else if constexpr (std::is_same_v<T, JobEvent::RunChanged>) {
                return Json{{"type", "run"}, {"run", run_json(what.run)}};
            } else {
                Json output{{"type", "output"}};
                output.update(output_json(what.chunk));
                return output;
            }
        },
        event.what);
    return dump(line) + '\n';
}

std::string error_event_line(std::string_view code, std::string_view message) {
    return dump(Json{{"type", "error"}, {"error", error_json(code, message)}}) + '\n';
}

std::string dump(const Json& json) {
    return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response json_response(unsigned status, const Json& body) {
    return Response{.status = status, .content_type = "application/json", .body = dump(body)};
}

Response error_response(unsigned status, std::string_view message) {
    return json_response(status, Json{{"error", error_json(error_code_for(status), message)}});
}

Response unauthorized(std::string_view message) {
    auto response = error_response(401, message);
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"hostline\"");
    return response;
}

Response job_error_response(const Error& error) {
    return error_response(error.message.starts_with("no job") ? 404 : 500, error.message);
}

}  // namespace hostline::controller::http
