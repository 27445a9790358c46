#include "bench/scale_bench.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bench/cluster_api.hpp"
#include "bench/echo_router.hpp"
#include "bench/open_files.hpp"
#include "cli/api_client.hpp"
#include "common/transport/curve_keys.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using testing::LocalCluster;

// An emulated identity holds 4 descriptors (2 sockets, each an eventfd and a TCP connection);
// what a process keeps besides.
constexpr rlim_t kDescriptorsPerIdentity = 4;
constexpr rlim_t kDescriptorsSpare = 256;

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
    const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) throw std::runtime_error("no /proc/PID/stat");
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A field of /proc/PID/status in kB (VmRSS, VmHWM), as MB.
double status_mb(pid_t pid, const std::string& name) {
    std::istringstream status(read_text("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(status, line);)
        if (line.rfind(name + ":", 0) == 0) return std::stod(line.substr(name.size() + 1)) / 1024.0;
    throw std::runtime_error("no " + name + " for pid " + std::to_string(pid));
}

// The emulator processes, stopped (SIGTERM, then waited for) when this goes.
class Emulators {
  public:
    ~Emulators() {
        for (pid_t pid : pids_) ::kill(pid, SIGTERM);
        for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
    }
    void start(const std::vector<std::string>& argv, const std::string& log) {
        pids_.push_back(testing::start_process(argv, log));
        logs_.push_back(log);
    }
    void check_alive() const {
        for (std::size_t i = 0; i < pids_.size(); ++i)
            if (!testing::process_alive(pids_[i]))
                throw std::runtime_error("emulator exited:\n" + read_text(logs_[i]));
    }
    double cpu_seconds_total() const {
        double total = 0;
        for (pid_t pid : pids_) total += cpu_seconds(pid);
        return total;
    }
    std::size_t size() const { return pids_.size(); }

  private:
    std::vector<pid_t> pids_;
    std::vector<std::string> logs_;
};

int count_online(cli::ApiClient& api) {
    auto agents = api.get_every_page("/api/v1/agents", "agents");
    if (!agents) throw std::runtime_error("GET /api/v1/agents: " + agents.error().message);
    int online = 0;
    for (const auto& agent : (*agents)["agents"]) online += agent.value("online", false);
    return online;
}

// The heartbeat the controller tells its agents now (its /metrics gauge), in seconds.
double heartbeat_in_force(cli::ApiClient& api) {
    const std::string name = "hostline_agent_heartbeat_seconds ";
    double seconds = -1;
    auto read = api.stream_lines("/metrics", [&](std::string_view line) {
        if (line.substr(0, name.size()) == name)
            seconds = std::stod(std::string(line.substr(name.size())));
        return true;
    });
    if (!read || seconds < 0)
        throw std::runtime_error("GET /metrics: no " + name + "gauge" +
                                 (read ? "" : ": " + read.error().message));
    return seconds;
}

void wait_online(cli::ApiClient& api, const Emulators& emulators, int agents,
                 std::chrono::seconds timeout) {
    const auto start = Clock::now();
    int online = 0;
    while ((online = count_online(api)) < agents) {
        if (Clock::now() - start > timeout)
            throw std::runtime_error(std::to_string(online) + " of " + std::to_string(agents) +
                                     " emulated agents online after " +
                                     std::to_string(timeout.count()) + " s");
        emulators.check_alive();
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::fprintf(stderr, "(4) %d agents online after %.1f s\n", online,
                 std::chrono::duration<double>(Clock::now() - start).count());
}

// Submits `true` to every agent, polls the job's state until it is final and checks that every
// run succeeded with its output stored whole; returns submit -> final in ms. Polled (every
// 10 ms, the newest job of the list: a small answer), not streamed: the events of 10,000
// runs are more than the 8 MiB a stream may leave unsent (api.md, slow_consumer) when this
// process is slow to read them, and serializing them would be the bench's load, not the job's.
double job_to_all(cli::ApiClient& api, int agents, std::uint64_t output_bytes) {
    const auto start = Clock::now();
    auto submitted = api.post("/api/v1/jobs", {{"target", "*"}, {"argv", {"true"}}});
    if (!submitted) throw std::runtime_error("submit failed: " + submitted.error().message);
    const long id = (*submitted)["job"];
    std::string state = "queued";
    bool newest_is_ours = true;
    while (state == "queued" || state == "running") {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto newest = api.get("/api/v1/jobs?limit=1");
        if (!newest || (*newest)["jobs"].empty() || (*newest)["jobs"][0].value("id", 0L) != id) {
            newest_is_ours = false;
            break;
        }
        state = (*newest)["jobs"][0].value("state", "");
        if (Clock::now() - start > std::chrono::minutes(10)) break;
    }
    const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!newest_is_ours)
        throw std::runtime_error("job #" + std::to_string(id) + " is not the newest job");
    auto detail = api.get("/api/v1/jobs/" + std::to_string(id));
    if (!detail) throw std::runtime_error("GET job: " + detail.error().message);
    int succeeded = 0;
    std::string first_failure;
    for (const auto& run : (*detail)["runs"]) {
        if (run.value("state", "") == "succeeded" &&
            run.value("stored_bytes", std::uint64_t{0}) == output_bytes)
            ++succeeded;
        else if (first_failure.empty())
            first_failure = run.dump();
    }
    if (state != "succeeded" || succeeded != agents)
        throw std::runtime_error(
            "job #" + std::to_string(id) + " ended " + state + " with " +
            std::to_string(succeeded) + " of " + std::to_string(agents) +
            " runs succeeded and stored whole; first other run: " + first_failure);
    return elapsed;
}

double median(std::vector<double> values) {
    return percentile(std::move(values), 0.5);
}

}  // namespace

ScaleSettings scale_settings(std::string bin_dir, const std::vector<std::string>& args) {
    ScaleSettings settings;
    settings.bin_dir = std::move(bin_dir);
    for (const std::string& arg : args) {
        const auto eq = arg.find('=');
        if (eq == std::string::npos) continue;
        const std::string name = arg.substr(0, eq), value = arg.substr(eq + 1);
        if (name == "--scale-agents") settings.agents = std::stoi(value);
        if (name == "--scale-rounds") settings.rounds = std::stoi(value);
        if (name == "--scale-idle") settings.idle = std::chrono::seconds(std::stoi(value));
        if (name == "--scale-output") settings.output_bytes = std::stoull(value);
        if (name == "--scale-zmtp-heartbeat") settings.zmtp_heartbeat_ms = std::stoi(value);
        if (name == "--scale-max-heartbeats") settings.max_heartbeats_per_second = std::stoi(value);
        if (name == "--scale-heartbeat")
            settings.heartbeat = std::chrono::seconds(std::stoi(value));
    }
    return settings;
}

std::vector<ReportRow> run_scale_bench(const ScaleSettings& settings) {
    const int agents = settings.agents;
    // Raised here, before the controller and the emulators start: they inherit it. The
    // controller holds one descriptor per agent connection (its unit sets 65536).
    const rlim_t open_files = raise_open_files_limit();
    // The controller and the bare ROUTER hold one descriptor per connection: say so plainly
    // rather than wait for agents that cannot connect.
    if (open_files < static_cast<rlim_t>(agents) + kDescriptorsSpare)
        throw std::runtime_error("the open files limit (" + std::to_string(open_files) +
                                 ") is too low for " + std::to_string(agents) +
                                 " agents: raise the hard limit (ulimit -Hn) to at least " +
                                 std::to_string(agents + kDescriptorsSpare));
    // Each emulator process gets as many identities as its descriptors allow.
    const std::size_t per_process = std::max<std::size_t>(
        1, (open_files - std::min(open_files - 1, kDescriptorsSpare)) / kDescriptorsPerIdentity);
    const std::size_t processes =
        (static_cast<std::size_t>(agents) + per_process - 1) / per_process;
    std::fprintf(stderr,
                 "(4) %d emulated agents in %zu emulator process(es) (open files limit %llu: "
                 "%zu identities each at most)\n",
                 agents, processes, static_cast<unsigned long long>(open_files), per_process);

    LocalCluster cluster(settings.bin_dir);
    cluster.set_log_level("warn");
    // The logs are what tell why an agent went offline or a run failed: kept when asked.
    if (std::getenv("HOSTLINE_BENCH_KEEP_DIR")) {
        cluster.keep_dir();
        std::fprintf(stderr, "(4) keeping %s\n", cluster.dir().c_str());
    }
    // The default heartbeat (5 s) unless asked, not the 500 ms the cluster sets for quick
    // tests: the idle figure is the controller's cost of a fleet at the pace it runs at.
    cluster.set_heartbeat(std::to_string(settings.heartbeat.count()) + "s");
    if (settings.max_heartbeats_per_second)
        cluster.set_max_heartbeats_per_second(
            static_cast<std::uint32_t>(*settings.max_heartbeats_per_second));
    std::vector<std::ofstream> key_files;
    for (std::size_t p = 0; p < processes; ++p)
        key_files.emplace_back(cluster.dir() + "/emulator-" + std::to_string(p) + ".keys");
    for (int i = 0; i < agents; ++i) {
        auto keys = transport::generate_key_pair();
        if (!keys) throw std::runtime_error(keys.error().message);
        char name[32];
        std::snprintf(name, sizeof name, "emu-%05d", i + 1);
        cluster.accept_agent_key(name, keys->public_key);
        key_files[static_cast<std::size_t>(i) % processes] << name << ' ' << keys->public_key << ' '
                                                           << keys->secret_key << '\n';
    }
    key_files.clear();  // flushed and closed

    EchoRouter bare;
    cluster.start_controller();
    Emulators emulators;
    for (std::size_t p = 0; p < processes; ++p)
        emulators.start({cluster.bin("hostline-agent-emulator"), "--keys",
                         cluster.dir() + "/emulator-" + std::to_string(p) + ".keys", "--controller",
                         cluster.agent_endpoint(), "--controller-key",
                         cluster.controller_public_key(), "--echo", bare.endpoint(), "--echo-key",
                         bare.public_key(), "--label", "fleet=emulated", "--output-bytes",
                         std::to_string(settings.output_bytes), "--io-threads", "1",
                         "--zmtp-heartbeat-ms", std::to_string(settings.zmtp_heartbeat_ms)},
                        cluster.dir() + "/emulator-" + std::to_string(p) + ".log");
    auto api = client_for(cluster);
    const auto connecting = Clock::now();
    // What libzmq itself holds for these connections (CURVE, pipes, buffers): the bench's RSS
    // grows by it when the bare ROUTER has them all. Context for the controller's RSS.
    const double rss_before_bare = status_mb(::getpid(), "VmRSS");
    bare.wait_ready(static_cast<std::size_t>(agents), std::chrono::minutes(5));
    const double bare_rss = status_mb(::getpid(), "VmRSS") - rss_before_bare;
    wait_online(api, emulators, agents, std::chrono::minutes(5));
    const double connect_s = std::chrono::duration<double>(Clock::now() - connecting).count();

    // Idle: every agent heartbeating, nothing else. Settle first: the hellos' store writes,
    // and the pacing of the heartbeat (a tick, then one heartbeat of every agent to hear it).
    std::this_thread::sleep_for(std::chrono::seconds(5));
    const double paced_s = heartbeat_in_force(api);
    std::this_thread::sleep_for(settings.heartbeat + std::chrono::seconds(2));
    std::fprintf(stderr, "(4) heartbeat in force: %.0f s (configured %lld s)\n", paced_s,
                 static_cast<long long>(settings.heartbeat.count()));
    const pid_t controller = cluster.controller_pid();
    const double cpu_before = cpu_seconds(controller);
    const double emulator_cpu_before = emulators.cpu_seconds_total();
    const auto idle_start = Clock::now();
    std::this_thread::sleep_for(settings.idle);
    const double idle_wall = std::chrono::duration<double>(Clock::now() - idle_start).count();
    const double idle_cpu_percent = 100.0 * (cpu_seconds(controller) - cpu_before) / idle_wall;
    const double emulator_cpu_percent =
        100.0 * (emulators.cpu_seconds_total() - emulator_cpu_before) / idle_wall;
    const double idle_rss = status_mb(controller, "VmRSS");
    std::fprintf(stderr,
                 "(4) idle %.0f s: controller %.2f%% of a core, RSS %.1f MB; the %zu emulator "
                 "process(es) %.2f%% of a core\n",
                 idle_wall, idle_cpu_percent, idle_rss, emulators.size(), emulator_cpu_percent);

    std::fprintf(stderr, "(4) %d x a job to all %d agents, each followed by a bare round\n",
                 settings.rounds, agents);
    job_to_all(api, agents, settings.output_bytes);  // warm up: the first runs' store pages
    bare.round(std::chrono::minutes(2));
    std::vector<double> jobs, rounds;
    for (int r = 0; r < settings.rounds; ++r) {
        jobs.push_back(job_to_all(api, agents, settings.output_bytes));
        rounds.push_back(bare.round(std::chrono::minutes(2)));
        std::fprintf(stderr, "(4) round %d: job %.0f ms, bare %.0f ms\n", r + 1, jobs.back(),
                     rounds.back());
    }
    const double peak_rss = status_mb(controller, "VmHWM");
    std::fprintf(stderr,
                 "(4) connect %.1f s; controller peak RSS %.1f MB after the jobs; the bare "
                 "ROUTER's RSS grew %.1f MB with the %d connections\n",
                 connect_s, peak_rss, bare_rss, agents);

    const std::string n = std::to_string(agents);
    return {
        {"(4) idle controller CPU, " + n + " agents, heartbeat " +
             std::to_string(settings.heartbeat.count()) + " s" +
             (paced_s > static_cast<double>(settings.heartbeat.count())
                  ? " paced to " + std::to_string(static_cast<int>(paced_s)) + " s"
                  : "") +
             " (target 5%)",
         idle_cpu_percent, 5.0, 1.0, "%"},
        {"(4) idle controller RSS, " + n + " agents (target 500 MB)", idle_rss, 500.0, 1.0, "MB"},
        {"(4) controller RSS vs a bare ROUTER's for the connections", idle_rss, bare_rss, 0, "MB"},
        {"(4) job to " + n + " agents vs bare ROUTER, median", median(jobs), median(rounds), 3.0},
    };
}

}  // namespace hostline::bench
