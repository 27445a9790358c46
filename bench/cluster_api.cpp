#include "bench/cluster_api.hpp"

#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace hostline::bench {

std::string admin_token_of(const testing::LocalCluster& cluster) {
    std::ifstream in(cluster.token_file());
    std::string token;
    std::getline(in, token);
    return token;
}

cli::ApiClient client_for(const testing::LocalCluster& cluster) {
    auto url = cli::parse_controller_url(cluster.http_url());
    if (!url) throw std::runtime_error("bad controller URL " + cluster.http_url());
    return cli::ApiClient(*url, {admin_token_of(cluster), cluster.token_file()});
}

std::optional<std::string> job_state_in(std::string_view event_line) {
    auto event = nlohmann::json::parse(event_line, nullptr, false);
    if (!event.is_object() || event.value("type", "") != "job") return std::nullopt;
    return event["job"].value("state", "");
}

Result<std::string> follow_to_final_state(cli::ApiClient& api, long id) {
    std::string state;
    auto streamed = api.stream_lines("/api/v1/jobs/" + std::to_string(id) + "/events",
                                     [&](std::string_view line) {
                                         auto job = job_state_in(line);
                                         if (!job) return true;
                                         state = *job;
                                         return state == "running" || state == "queued";
                                     });
    if (!streamed) return streamed.error();
    return state;
}

}  // namespace hostline::bench
