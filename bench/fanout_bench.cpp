#include "bench/fanout_bench.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/fleet.hpp"
#include "bench/process_cpu.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The issue's target: the job on N agents within 2x of N `true`s spawned by xargs -P64.
constexpr double kTargetRatio = 2.0;
constexpr const char* kParallel = "64";  // xargs -P, pdsh -f and ansible -f alike

// Runs argv to completion; its wall time in ms. Throws unless it exits 0 and `check` accepts
// its output (what the baseline was asked to do has happened).
template <typename Check>
double wall_of(const std::string& what, const std::vector<std::string>& argv, Check check) {
    const auto start = Clock::now();
    auto result = hostline::testing::run_command(argv, std::chrono::minutes(10));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (result.exit_code != 0 || !check(result.out))
        throw std::runtime_error(what + " failed (exit " + std::to_string(result.exit_code) +
                                 "): " + result.err.substr(0, 2000) + result.out.substr(0, 2000));
    return ms;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// Where program is on PATH; empty when it is not installed (run_command takes a path).
std::string path_of(const std::string& program) {
    auto found = hostline::testing::run_command({"/bin/sh", "-c", "command -v " + program});
    if (found.exit_code != 0) return "";
    return found.out.substr(0, found.out.find('\n'));
}

// Ansible ad-hoc over N inventory hosts that all run locally: its own directory for the
// inventory, its temporary files and an empty config, so nothing of the user's is read.
class AnsibleRun {
  public:
    AnsibleRun(std::string program, int hosts) : program_(std::move(program)), hosts_(hosts) {
        char tmpl[] = "/tmp/hostline-bench-ansible-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        std::ofstream(dir_ + "/inventory")
            << "[all]\nhost[1:" << hosts << "]\n[all:vars]\nansible_connection=local\n"
            << "ansible_python_interpreter=/usr/bin/python3\n";
        std::ofstream(dir_ + "/ansible.cfg");
    }
    ~AnsibleRun() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    AnsibleRun(const AnsibleRun&) = delete;
    AnsibleRun& operator=(const AnsibleRun&) = delete;

    double wall_ms() const {
        const std::size_t hosts = static_cast<std::size_t>(hosts_);
        return wall_of(
            "ansible",
            {"/usr/bin/env", "ANSIBLE_CONFIG=" + dir_ + "/ansible.cfg", "ANSIBLE_HOME=" + dir_,
             "ANSIBLE_LOCAL_TEMP=" + dir_ + "/tmp", "ANSIBLE_NOCOLOR=1", program_, "all", "-i",
             dir_ + "/inventory", "-c", "local", "-m", "command", "-a", "true", "-f", kParallel},
            [hosts](const std::string& out) { return count_of(out, "| CHANGED | rc=0") == hosts; });
    }

  private:
    std::string program_;
    int hosts_;
    std::string dir_;
};

// pdsh and ansible: their paths, empty to leave them out.
std::vector<ReportRow> fan_out_on(const FanoutSettings& settings, int agents,
                                  const std::string& pdsh_program,
                                  const std::string& ansible_program) {
    const bool with_pdsh = !pdsh_program.empty();
    const bool with_ansible = !ansible_program.empty();
    std::fprintf(stderr, "(2) starting a controller and %d agents...\n", agents);
    Fleet fleet({.bin_dir = settings.bin_dir, .agents = agents});
    const Fleet::Memory memory = fleet.agents_memory();
    std::fprintf(stderr, "  %d agents: RSS %.0f MiB in all, PSS %.0f MiB (%.1f MiB each)\n", agents,
                 memory.rss_mib, memory.pss_mib, memory.pss_mib / agents);
    auto api = fleet.client();
    const std::string n = std::to_string(agents);
    std::optional<AnsibleRun> ansible;
    if (with_ansible) ansible.emplace(ansible_program, agents);

    std::fprintf(stderr,
                 "  %d x true on %d agents, interleaved with as many seq %d | xargs -P64 -n1 true"
                 "%s%s\n",
                 settings.runs, agents, agents, with_pdsh ? ", pdsh -R exec" : "",
                 with_ansible ? ", ansible -c local" : "");
    fleet.run_everywhere(api, {"true"});  // warm up: the agents' first fork, the store's pages
    std::vector<double> hostline, xargs, pdsh, ansible_ms;
    // What each side's processes spent on a CPU, over hostline's jobs and xargs' runs only.
    FleetCpu hostline_cpu;
    double xargs_cpu = 0;
    double hostline_total_ms = 0, machine_busy_ms = 0;
    for (int round = 0; round < settings.runs; ++round) {
        const FleetCpu cpu_before = fleet.cpu();
        const MachineLoad machine;
        hostline.push_back(fleet.run_everywhere(api, {"true"}).wall_ms);
        machine_busy_ms += machine.busy_since() * hostline.back();
        hostline_cpu += fleet.cpu() - cpu_before;
        hostline_total_ms += hostline.back();
        const double xargs_cpu_before = bench_process_cpu_seconds();
        xargs.push_back(wall_of("xargs", {"/bin/sh", "-c", "seq " + n + " | xargs -P64 -n1 true"},
                                [](const std::string&) { return true; }));
        xargs_cpu += bench_process_cpu_seconds() - xargs_cpu_before;
        if (with_pdsh && round < settings.pdsh_runs)
            pdsh.push_back(wall_of("pdsh",
                                   {pdsh_program, "-S", "-R", "exec", "-w", "host[1-" + n + "]",
                                    "-f", kParallel, "true"},
                                   [](const std::string&) { return true; }));
        if (ansible && round < settings.ansible_runs) ansible_ms.push_back(ansible->wall_ms());
    }
    // Where hostline's time goes: CPU does not depend on what else the machine runs as wall
    // time does. The `true`s the agents ran are not in it: /proc counts an agent's reaped
    // children in clock ticks, and one `true` an agent is less than one.
    const double runs = static_cast<double>(settings.runs) * agents;
    std::fprintf(stderr,
                 "  CPU of hostline's jobs: controller %.2f s, agents %.2f s: %.3f ms a run "
                 "besides the `true` itself (xargs and its `true`s: %.3f ms a run); the machine "
                 "was %.0f%% busy during the jobs\n",
                 hostline_cpu.controller, hostline_cpu.agents,
                 (hostline_cpu.controller + hostline_cpu.agents) * 1000 / runs,
                 xargs_cpu * 1000 / runs, 100 * machine_busy_ms / hostline_total_ms);

    const double median = percentile(hostline, 0.5);
    const std::string on = "(2) true on " + n + " agents";
    std::vector<ReportRow> rows{
        {on + ", median wall", median, percentile(xargs, 0.5), kTargetRatio}};
    if (!pdsh.empty()) rows.push_back({on + " vs pdsh -R exec", median, percentile(pdsh, 0.5)});
    if (!ansible_ms.empty())
        rows.push_back({on + " vs ansible -c local", median, percentile(ansible_ms, 0.5)});
    return rows;
}

}  // namespace

std::vector<ReportRow> run_fanout_bench(const FanoutSettings& settings) {
    const std::string pdsh = settings.pdsh_runs > 0 ? path_of("pdsh") : "";
    const std::string ansible = settings.ansible_runs > 0 ? path_of("ansible") : "";
    const bool pdsh_missing = settings.pdsh_runs > 0 && pdsh.empty();
    const bool ansible_missing = settings.ansible_runs > 0 && ansible.empty();
    if (pdsh_missing || ansible_missing)
        std::fprintf(stderr, "(2) %s%snot installed (scripts/install-deps.sh --bench): left out\n",
                     pdsh_missing ? "pdsh " : "", ansible_missing ? "ansible " : "");
    std::vector<ReportRow> rows;
    for (int agents : settings.agent_counts) {
        auto more = fan_out_on(settings, agents, pdsh, ansible);
        rows.insert(rows.end(), more.begin(), more.end());
    }
    return rows;
}

}  // namespace hostline::bench
