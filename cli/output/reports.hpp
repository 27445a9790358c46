// Text reports of the controller's documents: the tables and headers the commands print.
// Pure functions of the documents (times shown in the local time zone); any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace hostline::cli {

// The table `run` ends with: HOST, STATE, EXIT, DURATION per run (an array of run
// documents), then a line counting the states, e.g. "2 succeeded, 1 failed".
std::string render_run_summary(const nlohmann::json& runs);

// The runs of `job ID`: HOST, STATE, EXIT, DURATION, BYTES, ERROR.
std::string render_run_details(const nlohmann::json& runs, std::size_t width);

// The lines above it: the job's id and state, then requester, source, target, command,
// "run as" (only when the job names a user or group), timeout, created and finished.
std::string render_job_header(const nlohmann::json& job);

// `jobs`: ID, STATE, TARGET, COMMAND, REQUESTER, CREATED; COMMAND shrinks to fit width.
std::string render_jobs_table(const nlohmann::json& jobs, std::size_t width);

// `agents`: NAME, STATE, LABELS, VERSION, RUNNING/CAPACITY, LAST SEEN (relative to now_ms).
std::string render_agents_table(const nlohmann::json& agents, std::int64_t now_ms,
                                std::size_t width);

}  // namespace hostline::cli
