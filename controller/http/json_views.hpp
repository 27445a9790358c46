// How jobs, runs, agents, output and errors look in the API's JSON (docs/api.md).
//
// Pure functions with no I/O. Strings from agents are arbitrary bytes, so everything is
// serialised with dump(), which replaces invalid UTF-8 instead of throwing.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controller/http/exchange.hpp"
#include "controller/jobs/approval.hpp"
#include "controller/jobs/job_service.hpp"

namespace hostline::controller::http {

using Json = nlohmann::ordered_json;
// Request bodies are parsed into std::map-backed JSON: an ordered_json object looks keys up
// linearly, and a 1 MiB body of distinct keys would stall the loop.
using InputJson = nlohmann::json;

Json job_json(const Job& job);
// The hosts a rollout never started (fail-fast) and why: {"hosts": [...], "reason": "..."|null}.
Json not_started_json(const JobDetail& detail);
Json run_json(const RunRecord& run);
Json agent_json(const AgentInfo& agent);
Json output_json(const OutputChunk& chunk);  // {"run_id","agent","seq","stream","data"}
Json approval_json(const Approval& approval);

// One line of an events stream, newline included.
std::string event_line(const JobEvent& event);
std::string error_event_line(std::string_view code, std::string_view message);

// Compact JSON; invalid UTF-8 in strings becomes U+FFFD. Never throws.
std::string dump(const Json& json);

Response json_response(unsigned status, const Json& body);

// {"error": {"code", "message"}}, the code following from the status: 400 bad_request,
// 401 unauthorized, 403 forbidden, 404 not_found, 405 method_not_allowed, 409 conflict, 413 and 431
// too_large, anything else internal.
Response error_response(unsigned status, std::string_view message);
// A 401 with the WWW-Authenticate challenge for a bearer token.
Response unauthorized(std::string_view message);

// A JobService error about one job: 404 when it says there is no such job (its message
// starts with "no job"), else 500.
Response job_error_response(const Error& error);

}  // namespace hostline::controller::http
