#include "bench/footprint_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/cluster_api.hpp"
#include "bench/process_cpu.hpp"
#include "cli/api_client.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using hostline::testing::LocalCluster;

// The issue's targets.
constexpr double kOutputTimeRatio = 2.0;  // >= 0.5x cat's throughput: <= 2x its time
constexpr double kRssLimitMb = 10.0;
// An idle agent's heartbeat is two messages (its own and the controller's answer), and each
// passes two threads: the agent's thread and ZeroMQ's I/O thread. The agent's timer wakes
// its thread, which hands the frame to the I/O thread (2 wake-ups); the answer wakes the I/O
// thread, which hands it to the agent's thread (4). Anything above that is a wake-up beyond
// heartbeats.
constexpr double kWakeupsPerHeartbeat = 4.0;

// One line repeated: not all zeros, so no layer can store it as a hole, and every byte can
// be checked against its offset. It compresses about 200:1 (the agent sends output
// LZ4-compressed), so the other contents below are measured too.
const std::string kLine = "hostline output bench 0123456789 abcdefghijklmnopqrstuvwxyz\n";

// The largest sample file the text and random contents cycle through.
constexpr std::uint64_t kSampleBytes = std::uint64_t{64} << 20;

// What the run writes: `yes` of kLine, or a sample file written over and over; either way
// `sample` repeated, so the byte at any offset is known.
struct Content {
    std::string name;  // in the table
    std::string file;  // empty: kLine through yes
    std::string sample;
};

std::string generator(const Content& content, std::uint64_t bytes) {
    const std::string head = " | head -c " + std::to_string(bytes);
    if (content.file.empty()) return "yes '" + kLine.substr(0, kLine.size() - 1) + "'" + head;
    const std::uint64_t copies = (bytes + content.sample.size() - 1) / content.sample.size();
    return "for i in $(seq " + std::to_string(copies) + "); do cat '" + content.file + "'; done" +
           head;
}

// C headers from /usr/include, in path order, up to `bytes`: text that LZ4 shrinks about 3:1,
// like most logs and command output.
std::string header_text(std::uint64_t bytes) {
    std::vector<std::filesystem::path> headers;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator("/usr/include", ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".h") headers.push_back(it->path());
    std::sort(headers.begin(), headers.end());
    std::string text;
    for (const auto& path : headers) {
        if (text.size() >= bytes) break;
        std::ifstream in(path, std::ios::binary);
        text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (text.size() < std::min<std::uint64_t>(bytes, 1 << 20))
        throw std::runtime_error("/usr/include holds too few headers for the text output");
    text.resize(std::min<std::uint64_t>(text.size(), bytes));
    return text;
}

// Random characters of a 64-letter alphabet: LZ4, which has no entropy coding, finds nothing
// to shrink in them (no repeated sequences), and unlike random bytes they read back through
// the output API's JSON exactly (it replaces invalid UTF-8).
std::string random_text(std::uint64_t bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::mt19937_64 random(20261125);
    std::string data(bytes, '\0');
    for (std::size_t i = 0; i < data.size(); i += 10) {
        std::uint64_t word = random();
        for (std::size_t j = i; j < std::min<std::size_t>(i + 10, data.size()); ++j, word >>= 6)
            data[j] = kAlphabet[word & 63];
    }
    return data;
}

Content sample_content(const std::string& name, const std::string& dir, std::string sample) {
    const std::string file = dir + "/" + name + ".sample";
    std::ofstream(file, std::ios::binary) << sample;
    return {name, file, std::move(sample)};
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
    return percentile(std::move(values), 0.5);
}

nlohmann::json get_or_throw(hostline::cli::ApiClient& api, const std::string& path) {
    auto answer = api.get(path);
    if (!answer) throw std::runtime_error("GET " + path + ": " + answer.error().message);
    return *answer;
}

bool final_state(const std::string& state) {
    return state != "pending_approval" && state != "queued" && state != "running";
}

// The baseline: the same generator through cat into /dev/null.
double cat_into_pipe(const Content& content, std::uint64_t bytes) {
    const auto start = Clock::now();
    auto result =
        testing::run_command({"/bin/sh", "-c", generator(content, bytes) + " | cat > /dev/null"},
                             std::chrono::minutes(10));
    if (result.exit_code != 0) throw std::runtime_error("the baseline failed: " + result.err);
    return ms_since(start);
}

// Submits the generator on `agent` and waits until the job is final in the store: GET
// /api/v1/jobs/ID reads the store behind every write queued before it, so a final state
// there is the result committed after the last chunk. Returns the wall time in ms.
double stored_run(hostline::cli::ApiClient& api, const std::string& agent, const Content& content,
                  std::uint64_t bytes) {
    const auto start = Clock::now();
    auto submitted =
        api.post("/api/v1/jobs", {{"target", agent},
                                  {"argv", {"/bin/sh", "-c", generator(content, bytes)}},
                                  {"timeout_ms", 30 * 60 * 1000}});
    if (!submitted) throw std::runtime_error("submit failed: " + submitted.error().message);
    const long id = (*submitted)["job"];
    const std::string path = "/api/v1/jobs/" + std::to_string(id);
    nlohmann::json detail;
    while (true) {
        detail = get_or_throw(api, path);
        if (final_state(detail["job"].value("state", ""))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double elapsed = ms_since(start);

    const auto& run = detail["runs"].at(0);
    const std::string state = detail["job"].value("state", "");
    const auto stored = run.value("stored_bytes", std::uint64_t{0});
    const auto counted = run.value("stdout_bytes", std::uint64_t{0});
    std::fprintf(stderr, "  job #%ld %s in %.0f ms: %.0f MiB/s; stored %llu of %llu bytes%s\n", id,
                 state.c_str(), elapsed, static_cast<double>(bytes) / (1 << 20) / elapsed * 1000,
                 static_cast<unsigned long long>(stored), static_cast<unsigned long long>(counted),
                 run.value("truncated", false) ? " (truncated)" : "");
    if (state != "succeeded" || stored != bytes || counted != bytes || run.value("truncated", true))
        throw std::runtime_error("job #" + std::to_string(id) + " ended " + state + " with " +
                                 std::to_string(stored) + " bytes stored, not " +
                                 std::to_string(bytes) + ": " + run.value("error", ""));

    // What a client reads back: the stored total, and the last bytes as the generator wrote
    // them (the range API reads the run's chunks from the store).
    const std::uint64_t tail = std::min<std::uint64_t>(bytes, 4096);
    auto range = get_or_throw(api, path + "/output?host=" + agent +
                                       "&stream=stdout&offset=" + std::to_string(bytes - tail) +
                                       "&length=" + std::to_string(tail));
    const auto total = range.value("total", std::uint64_t{0});
    const std::string data = range.value("data", "");
    bool same = data.size() == tail;
    for (std::uint64_t i = 0; same && i < tail; ++i)
        same = data[i] == content.sample[(bytes - tail + i) % content.sample.size()];
    if (total != bytes || !same)
        throw std::runtime_error("job #" + std::to_string(id) + ": the output API answers " +
                                 std::to_string(total) + " bytes stored, not " +
                                 std::to_string(bytes) +
                                 (same ? "" : ", and its last bytes are not what was written"));
    return elapsed;
}

// ---- /proc ------------------------------------------------------------------------------

// A "Key:   value kB" field of a /proc status file; -1 when absent.
long status_field(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return -1;
}

double mib_of_kb(long kb) {
    return static_cast<double>(kb) / 1024.0;
}

struct ThreadSwitches {
    std::string name;
    long voluntary = 0;
    long involuntary = 0;
};

// Every thread of pid: its name and context switches so far.
std::map<int, ThreadSwitches> thread_switches(pid_t pid) {
    std::map<int, ThreadSwitches> threads;
    const std::vector<pid_t> tids = tasks_of(pid);
    if (tids.empty())
        throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/task");
    for (pid_t tid : tids) {
        const std::string task = task_dir(pid, tid);
        ThreadSwitches t;
        std::ifstream(task + "/comm") >> t.name;
        t.voluntary = status_field(task + "/status", "voluntary_ctxt_switches");
        t.involuntary = status_field(task + "/status", "nonvoluntary_ctxt_switches");
        threads[tid] = t;
    }
    return threads;
}

// What each of the agent's threads is for, by the name it gives itself.
std::string thread_role(const std::string& name) {
    if (name == "hostline-agent") return "the agent: its poll loop, heartbeat timer, runs";
    if (name.rfind("ZMQbg/IO", 0) == 0) return "ZeroMQ's I/O: the TCP link, CURVE";
    if (name == "ZMQbg/Reaper") return "ZeroMQ's reaper: closes sockets";
    return "?";
}

}  // namespace

std::vector<ReportRow> run_output_bench(const OutputBenchSettings& settings) {
    const std::uint64_t bytes = settings.bytes;
    LocalCluster cluster(settings.bin_dir);
    cluster.set_log_level("warn");
    cluster.set_output_cap_bytes(bytes);
    cluster.start_controller();
    cluster.add_agent("output-1");
    cluster.wait_online({"output-1"});
    auto api = client_for(cluster);

    const std::string size = bytes == std::uint64_t{1} << 30 ? std::string("1 GiB")
                             : bytes >= std::uint64_t{1} << 20
                                 ? std::to_string(bytes >> 20) + " MiB"
                                 : std::to_string(bytes) + " bytes";
    const std::uint64_t sample_bytes = std::min(bytes, kSampleBytes);
    std::vector<Content> contents;
    for (const std::string& name : settings.contents) {
        if (name == "lines")
            contents.push_back({"lines", "", kLine});
        else if (name == "text")
            contents.push_back(sample_content("text", cluster.dir(), header_text(sample_bytes)));
        else if (name == "random")
            contents.push_back(sample_content("random", cluster.dir(), random_text(sample_bytes)));
        else
            throw std::runtime_error("unknown output content " + name + " (lines, text, random)");
    }
    // What each content is, in the table.
    const std::map<std::string, std::string> described = {{"lines", "one line repeated (yes)"},
                                                          {"text", "C headers, text"},
                                                          {"random", "random characters"}};

    std::vector<ReportRow> rows;
    for (const Content& content : contents) {
        std::fprintf(stderr,
                     "(5) %s: %d x a run writing %llu bytes to stdout, stored; and %d x the same "
                     "generator | cat > /dev/null\n",
                     content.name.c_str(), settings.runs, static_cast<unsigned long long>(bytes),
                     settings.runs + 1);
        const auto agent_before = threads_of(cluster.agent_pid("output-1"));
        const auto controller_before = controller_threads(cluster.controller_pid());
        std::vector<double> stored, piped;
        for (int i = 0; i < settings.runs; ++i) {
            piped.push_back(cat_into_pipe(content, bytes));
            std::fprintf(stderr, "  cat into a pipe: %.0f ms: %.0f MiB/s\n", piped.back(),
                         static_cast<double>(bytes) / (1 << 20) / piped.back() * 1000);
            stored.push_back(stored_run(api, "output-1", content, bytes));
        }
        piped.push_back(cat_into_pipe(content, bytes));
        std::fprintf(stderr, "  cat into a pipe: %.0f ms\n", piped.back());
        // Where the runs' time went, by thread: the agent reads the pipe, compresses, spools
        // and sends; the controller's transport thread (agent-link) receives, its io thread
        // decodes and schedules, its store commits and store-wal copies the log back.
        std::fprintf(
            stderr, "  CPU seconds by thread, %d run(s): agent: %s\n  controller: %s\n",
            settings.runs,
            cpu_since(agent_before, threads_of(cluster.agent_pid("output-1"))).c_str(),
            cpu_since(controller_before, controller_threads(cluster.controller_pid())).c_str());
        // The target is the issue's, on the first content (repeated lines, the one measured
        // since the start); the others say what it costs output that shrinks less or not.
        rows.push_back(
            {"(5) " + size + " of stdout stored, " + described.at(content.name) + ", median wall",
             median(stored), median(piped), rows.empty() ? kOutputTimeRatio : 0.0});
    }
    // Context for the footprint: what moving the output cost each daemon at its peak.
    const std::string agent = "/proc/" + std::to_string(cluster.agent_pid("output-1")) + "/status";
    const std::string controller = "/proc/" + std::to_string(cluster.controller_pid()) + "/status";
    std::fprintf(stderr, "  peak RSS (VmHWM): agent %.1f MiB, controller %.1f MiB\n",
                 mib_of_kb(status_field(agent, "VmHWM")),
                 mib_of_kb(status_field(controller, "VmHWM")));

    return rows;
}

std::vector<ReportRow> run_idle_agent_bench(const IdleAgentSettings& settings) {
    LocalCluster cluster(settings.bin_dir);
    // info, as installed: an idle agent must not log its way into wake-ups either.
    cluster.set_log_level("info");
    cluster.set_heartbeat(std::to_string(settings.heartbeat_ms) + "ms");
    cluster.start_controller();
    cluster.add_agent("idle-1");
    cluster.wait_online({"idle-1"});
    const pid_t pid = cluster.agent_pid("idle-1");
    std::fprintf(stderr,
                 "(6) one agent (pid %d) connected, heartbeat %d ms: idle %d s, then counting "
                 "its wake-ups over %d s\n",
                 static_cast<int>(pid), settings.heartbeat_ms, settings.settle_seconds,
                 settings.idle_seconds);
    std::this_thread::sleep_for(std::chrono::seconds(settings.settle_seconds));
    const auto before = thread_switches(pid);
    std::this_thread::sleep_for(std::chrono::seconds(settings.idle_seconds));
    const auto after = thread_switches(pid);
    if (!testing::process_alive(pid))
        throw std::runtime_error("the agent died while idle:\n" + cluster.agent_log("idle-1"));

    // A voluntary switch is the thread going to sleep, so each is one wake-up that ended a
    // sleep; an involuntary one is the thread preempted while it ran (by other load on the
    // machine), not a wake-up of its own. Both are reported; the target is on wake-ups.
    long wakeups = 0, switches = 0;
    for (const auto& [tid, t] : after) {
        ThreadSwitches start;
        if (auto it = before.find(tid); it != before.end()) start = it->second;
        const long voluntary = t.voluntary - start.voluntary;
        const long involuntary = t.involuntary - start.involuntary;
        wakeups += voluntary;
        switches += voluntary + involuntary;
        std::fprintf(stderr, "  thread %d %s (%s): %ld voluntary + %ld involuntary switches\n", tid,
                     t.name.c_str(), thread_role(t.name).c_str(), voluntary, involuntary);
    }
    const std::string status = "/proc/" + std::to_string(pid) + "/status";
    const long rss = status_field(status, "VmRSS");
    std::fprintf(stderr, "  VmRSS %.2f MiB = anon %.2f + file %.2f + shmem %.2f; VmHWM %.2f MiB\n",
                 mib_of_kb(rss), mib_of_kb(status_field(status, "RssAnon")),
                 mib_of_kb(status_field(status, "RssFile")),
                 mib_of_kb(status_field(status, "RssShmem")),
                 mib_of_kb(status_field(status, "VmHWM")));
    const double heartbeats =
        static_cast<double>(settings.idle_seconds) * 1000.0 / settings.heartbeat_ms;

    // 10 MB as the issue says it: 10^6 bytes a MB; VmRSS is in KiB.
    const double rss_mb = static_cast<double>(rss) * 1024.0 / 1e6;
    return {
        {"(6) idle agent RSS (VmRSS) vs the 10 MB limit", rss_mb, kRssLimitMb, 1.0, "MB"},
        {"(6) idle agent wake-ups per heartbeat (" + std::to_string(settings.idle_seconds) + " s)",
         static_cast<double>(wakeups), heartbeats, kWakeupsPerHeartbeat, ""},
        {"(6) idle agent context switches, all, per heartbeat", static_cast<double>(switches),
         heartbeats, 0, ""},
    };
}

}  // namespace hostline::bench
