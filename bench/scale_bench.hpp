// Scenario 4, fleet scale: one controller with thousands of emulated agents connected
// (bench/agent_emulator.hpp, in processes of their own so that the controller is measured
// alone), docs/performance.md "Fleet scale (10,000 agents)":
//   - the controller idle with every agent heartbeating: its CPU (utime + stime from
//     /proc/PID/stat) and RSS (VmRSS), against the targets (< 5% of one core,
//     < 500 MB): there is no baseline beyond the target;
//   - a job to every agent, submit -> final state, every run succeeded with its output
//     stored, against a bare ZeroMQ ROUTER (CURVE on) doing one request/reply with the same
//     identities, in the same emulator processes, rounds interleaved. Target <= 3x.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct ScaleSettings {
    std::string bin_dir;  // hostline-controller and hostline-agent-emulator
    int agents = 10'000;
    int rounds = 3;  // jobs to every agent, each followed by a bare round (after one of each)
    std::chrono::seconds idle{30};
    std::chrono::seconds heartbeat{5};  // the controller's (the default of controller.toml)
    std::uint64_t output_bytes = 100;   // each run's stdout
    int zmtp_heartbeat_ms = 0;          // the emulated agents' ZMTP PINGs; 0: none, as the agent
    // The controller's max_heartbeats_per_second; unset: its default (250), 0: no pacing.
    std::optional<int> max_heartbeats_per_second;
};

// Takes settings from --scale-agents=N, --scale-rounds=N, --scale-idle=SECONDS,
// --scale-heartbeat=SECONDS, --scale-output=BYTES, --scale-zmtp-heartbeat=MS and
// --scale-max-heartbeats=N (the controller's max_heartbeats_per_second) among args;
// other args are left alone.
ScaleSettings scale_settings(std::string bin_dir, const std::vector<std::string>& args);

// Starts the controller and the emulators, measures, stops them. Throws std::runtime_error
// when what it measured did not happen: agents that never came online, a job that did not
// succeed on every agent or whose output was not stored whole, a bare round without every
// reply.
std::vector<ReportRow> run_scale_bench(const ScaleSettings& settings);

}  // namespace hostline::bench
