// What the fault scenarios share: their settings, the writer jobs they start, reading back
// what a user would read (`hostline jobs`, `hostline job ID --output --json`), comparing it
// with what the writer printed, and the one-line report each scenario prints.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "testing/local_cluster.hpp"

namespace hostline::faults {

// The scenario sizes. The defaults are what `make test` runs; `make faults` sets heavier ones
// through HOSTLINE_FAULT_RUNS, HOSTLINE_FAULT_KILLS and HOSTLINE_FAULT_SEED.
struct FaultSettings {
    int runs = 100;
    int kills = 5;
    std::uint64_t seed = 0;  // random unless HOSTLINE_FAULT_SEED is set; printed either way

    static FaultSettings from_environment();
};

// One job running `fault_writer TAG LINES DELAY_US` on one agent.
struct WriterJob {
    long job_id = 0;
    std::string agent;
    std::string tag;
    std::uint64_t lines = 0;
    std::uint64_t delay_us = 0;

    std::string expected() const;
};

// Submits a writer job on agent through POST /api/v1/jobs (the job is not waited for).
WriterJob submit_writer(testing::LocalCluster& cluster, const std::string& agent, std::string tag,
                        std::uint64_t lines, std::uint64_t delay_us);

// Submits count writer jobs spread over agents in turn, each printing a few hundred lines
// over about one to three seconds (drawn from rng).
std::vector<WriterJob> submit_short_writers(testing::LocalCluster& cluster,
                                            const std::vector<std::string>& agents, int count,
                                            const std::string& tag_prefix, std::mt19937_64& rng);

bool is_final_job_state(const std::string& state);

// Whether `hostline agents --json` shows the agent online (false if it cannot be read).
bool shows_online(testing::LocalCluster& cluster, const std::string& name);

// The state of every job, paging through `hostline jobs --json`; nothing if the CLI fails
// (the controller is restarting, say).
std::optional<std::vector<std::pair<long, std::string>>> job_states(testing::LocalCluster& cluster);

// How many of jobs are not final yet; nothing if the states cannot be read.
std::optional<std::size_t> unfinished(testing::LocalCluster& cluster,
                                      const std::vector<WriterJob>& jobs);

// Waits until every one of jobs is final, or the bound passes. Returns an empty string when
// they all are, else which are not and in what state.
std::string wait_all_final(testing::LocalCluster& cluster, const std::vector<WriterJob>& jobs,
                           std::chrono::seconds bound);

// A run and its stored output, read with `hostline job ID --output --json`.
struct StoredRun {
    std::string agent;
    std::string state;
    std::string error;
    std::optional<long> exit_code;
    bool truncated = false;
    long stdout_bytes = 0;    // as the agent counted them
    std::string out;          // stdout chunks joined in seq order
    std::string err;          // stderr chunks likewise
    std::string last_stream;  // the stream of the chunk with the highest seq
    std::string last_data;
    std::string sequence_problem;  // duplicate or missing seq numbers; empty if none
    std::string describe() const;
};

// The one run of a job; throws if the job does not have exactly one.
StoredRun read_stored_run(testing::LocalCluster& cluster, long job_id);

std::string sha256_hex(std::string_view data);

enum class OutputMatch { exact, prefix, differs };
struct OutputCheck {
    OutputMatch match = OutputMatch::differs;
    std::string detail;  // lengths and SHA-256 of both; for a difference, what kind
};

// Compares stored output with what the writer printed, by length and SHA-256 (of the whole,
// or of the expected bytes cut to the stored length for a prefix). A difference is described
// line by line: lines missing, lines stored twice, lines out of order, foreign bytes.
OutputCheck check_output(const WriterJob& job, const std::string& stored);

// The pid of a live process with arg among its arguments, if there is one.
std::optional<pid_t> find_process_with_argument(const std::string& arg);

// Waits until pred() holds or the bound passes; returns whether it held.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound,
                std::chrono::milliseconds step = std::chrono::milliseconds(100));

// One line starting with "FAULTS-REPORT " and the figures as key=value, on stdout, so the
// numbers of a heavy run can be collected with grep (docs/reliability.md).
struct FaultReport {
    std::string scenario;
    int runs = 0;
    int kills = 0;
    int partitions = 0;
    int succeeded = 0;
    int lost = 0;
    std::uint64_t bytes_checked = 0;
    double seconds_to_all_final = 0;
    std::uint64_t seed = 0;
    std::string extra;  // more key=value pairs, space separated
    void print() const;
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound, std::chrono::milliseconds step) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (true) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(step);
    }
}

}  // namespace hostline::faults
