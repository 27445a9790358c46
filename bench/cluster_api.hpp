// What the benchmarks ask of a LocalCluster's controller through its HTTP API, in one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/api_client.hpp"
#include "common/error.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {

// The admin API token the cluster's controller made (its token file's first line).
std::string admin_token_of(const testing::LocalCluster& cluster);

// A client of the cluster's controller with its admin token. Throws if the URL is bad.
cli::ApiClient client_for(const testing::LocalCluster& cluster);

// The job's state in one line of an events stream, if the line is a `job` event.
std::optional<std::string> job_state_in(std::string_view event_line);

// Follows job id's events until the job leaves running and queued; its final state, or why the
// events stream ended first.
Result<std::string> follow_to_final_state(cli::ApiClient& api, long id);

}  // namespace hostline::bench
