#include "bench/fleet.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <nlohmann/json.hpp>

#include "bench/cluster_api.hpp"
#include "bench/keep_alive_client.hpp"
#include "bench/open_files.hpp"
#include "bench/process_cpu.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// "Rss:" and "Pss:" of /proc/PID/smaps_rollup, in kB.
std::pair<long, long> rss_and_pss_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    long rss = 0, pss = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("Rss:", 0) == 0) rss = std::atol(line.c_str() + 4);
        if (line.rfind("Pss:", 0) == 0) pss = std::atol(line.c_str() + 4);
    }
    return {rss, pss};
}

std::string agent_name(int i) {
    return "bench-" + std::to_string(i);
}

}  // namespace

Fleet::Fleet(const FleetSettings& settings)
    : agents_(settings.agents),
      cluster_(std::make_unique<hostline::testing::LocalCluster>(settings.bin_dir)) {
    raise_open_files_limit();
    cluster_->set_log_level("warn");
    cluster_->set_heartbeat(settings.heartbeat);
    cluster_->start_controller();
    token_ = admin_token_of(*cluster_);
    const auto started = Clock::now();
    for (int first = 1; first <= agents_; first += settings.batch) {
        std::vector<std::string> batch;
        for (int i = first; i < first + settings.batch && i <= agents_; ++i) {
            batch.push_back(agent_name(i));
            cluster_->add_agent(batch.back(), {.capacity = settings.capacity});
        }
        cluster_->wait_online(batch, std::chrono::minutes(2));
    }
    std::fprintf(stderr, "  %d agents online in %.1f s\n", agents_,
                 std::chrono::duration<double>(Clock::now() - started).count());
}

Fleet::~Fleet() = default;

hostline::cli::ApiClient Fleet::client() const {
    return client_for(*cluster_);
}

FleetJob Fleet::run_everywhere(hostline::cli::ApiClient& api,
                               const std::vector<std::string>& argv) const {
    const auto start = Clock::now();
    auto submitted = api.post("/api/v1/jobs", {{"target", "bench-*"}, {"argv", argv}});
    if (!submitted) throw std::runtime_error("submit failed: " + submitted.error().message);
    const long id = (*submitted)["job"];
    auto state = follow_to_final_state(api, id);
    const double wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (state && *state == "succeeded") return {id, wall_ms};
    std::string failures;
    if (auto detail = api.get("/api/v1/jobs/" + std::to_string(id)))
        for (const auto& run : (*detail)["runs"])
            if (run.value("state", "") != "succeeded")
                failures += "\n  " + run.value("agent", "") + ": " + run.value("state", "") + " " +
                            run.value("error", "");
    throw std::runtime_error("job #" + std::to_string(id) + " ended " +
                             (state ? *state : state.error().message) + failures);
}

std::string Fleet::metrics() const {
    KeepAliveClient http(cluster_->http_url(), token_);
    Answer answer = http.get("/metrics");
    if (answer.status != 200)
        throw std::runtime_error("GET /metrics answered " + std::to_string(answer.status));
    return std::move(answer.body);
}

FleetCpu Fleet::cpu() const {
    FleetCpu cpu;
    cpu.controller = cpu_seconds_of(cluster_->controller_pid());
    for (int i = 1; i <= agents_; ++i) {
        const pid_t pid = cluster_->agent_pid(agent_name(i));
        cpu.agents += cpu_seconds_of(pid);
        cpu.agents_children += reaped_children_seconds(pid);
    }
    return cpu;
}

std::vector<Fleet::Thread> Fleet::controller_threads() const {
    return bench::controller_threads(cluster_->controller_pid());
}

Fleet::Memory Fleet::agents_memory() const {
    long rss = 0, pss = 0;
    for (int i = 1; i <= agents_; ++i) {
        auto [r, p] = rss_and_pss_kb(cluster_->agent_pid(agent_name(i)));
        rss += r;
        pss += p;
    }
    return {static_cast<double>(rss) / 1024.0, static_cast<double>(pss) / 1024.0};
}

namespace {

// The "cpu" line of /proc/stat: busy and total jiffies of all cores.
std::pair<long long, long long> machine_jiffies() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    const long long busy = user + nice + system + irq + softirq + steal;
    return {busy, busy + idle + iowait};
}

}  // namespace

MachineLoad::MachineLoad() {
    std::tie(busy_, total_) = machine_jiffies();
}

double MachineLoad::busy_since() const {
    auto [busy, total] = machine_jiffies();
    return total > total_ ? static_cast<double>(busy - busy_) / static_cast<double>(total - total_)
                          : 0;
}

double metric_value(const std::string& text, const std::string& series) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ')
            return std::atof(line.c_str() + series.size() + 1);
    return 0;
}

}  // namespace hostline::bench
