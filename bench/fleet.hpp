// A real fleet for the fan-out and throughput scenarios: one hostline-controller and N
// hostline-agent processes on loopback (testing::LocalCluster), started in batches so that
// 1,000 CURVE handshakes do not all land on the controller at once, and what the scenarios
// ask of it: a job on every agent, the controller's metrics, and the CPU each kind of process
// used. Called from one thread, except run_everywhere (one ApiClient per thread).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/process_cpu.hpp"
#include "cli/api_client.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {

struct FleetSettings {
    std::string bin_dir;  // the binaries' directory
    int agents = 100;     // named bench-1 .. bench-N
    int capacity = 4;     // runs at once on each agent
    // The product's default: the tests' 500 ms would add 2,000 heartbeats a second at 1,000
    // agents to what is measured.
    std::string heartbeat = "5s";
    int batch = 100;  // agents started before waiting for them to come online
};

// Seconds on a CPU so far, by kind of process.
struct FleetCpu {
    double controller = 0;
    double agents = 0;
    // The processes the agents ran and reaped (`true`): /proc's cutime + cstime, counted in
    // clock ticks and rounded down per agent, so a difference is off by up to a tick (10 ms)
    // an agent: meaningful over many runs an agent, not over one.
    double agents_children = 0;

    FleetCpu operator-(const FleetCpu& before) const {
        return {controller - before.controller, agents - before.agents,
                agents_children - before.agents_children};
    }
    FleetCpu& operator+=(const FleetCpu& more) {
        controller += more.controller;
        agents += more.agents;
        agents_children += more.agents_children;
        return *this;
    }
    double total() const { return controller + agents + agents_children; }
};

// The share of the machine's CPU time (all cores) that was busy between two readings of
// /proc/stat: what else ran shows here too.
class MachineLoad {
  public:
    MachineLoad();              // the first reading
    double busy_since() const;  // 0..1

  private:
    long long busy_ = 0;
    long long total_ = 0;
};

// What a job on every agent came to.
struct FleetJob {
    long id = 0;
    double wall_ms = 0;  // from the submit to its final event on the events stream
};

class Fleet {
  public:
    // Starts the controller and the agents and waits until every agent is online; raises
    // RLIMIT_NOFILE to its hard limit first (the controller holds a connection per agent).
    // Throws std::runtime_error when something does not start.
    explicit Fleet(const FleetSettings& settings);
    ~Fleet();  // stops every process it started (LocalCluster)

    int size() const { return agents_; }
    // A client of the controller's API with the admin token; one per thread.
    hostline::cli::ApiClient client() const;
    // Submits argv on every agent (bench-*) and waits for the job's final event. Throws
    // std::runtime_error, with the runs that failed, unless the job succeeded.
    FleetJob run_everywhere(hostline::cli::ApiClient& api,
                            const std::vector<std::string>& argv) const;
    // GET /metrics: the Prometheus text.
    std::string metrics() const;
    FleetCpu cpu() const;
    // Seconds on a CPU of each controller thread, in start order (process_cpu.hpp).
    using Thread = ThreadCpu;
    std::vector<Thread> controller_threads() const;
    // Resident memory of all agents together, in MiB: RSS (shared pages counted in each) and
    // PSS (shared pages divided among their users: what they cost together).
    struct Memory {
        double rss_mib = 0;
        double pss_mib = 0;
    };
    Memory agents_memory() const;

  private:
    int agents_;
    std::unique_ptr<hostline::testing::LocalCluster> cluster_;
    std::string token_;
};

// A value from Prometheus text: the sample named exactly `series` (with its labels, as
// `name{label="x"}`); 0 when absent.
double metric_value(const std::string& text, const std::string& series);

}  // namespace hostline::bench
