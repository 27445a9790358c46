#include "bench/throughput_bench.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/fleet.hpp"
#include "bench/process_cpu.hpp"

extern char** environ;

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The issue's target: at least 0.5x the bare rate, i.e. at most 2x its time per run.
constexpr double kTargetRatio = 2.0;
constexpr auto kScrapeInterval = std::chrono::milliseconds(100);

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// What one window came to: runs completed (stored, for hostline) in its wall time.
struct Window {
    long runs = 0;
    double seconds = 0;
    double rate() const { return runs / seconds; }
};

// The store's COMMIT histogram, cumulative: the bucket counts by upper bound, and sum, count.
struct CommitHistogram {
    std::map<double, double> buckets;  // le -> count (le="+Inf" as infinity)
    double sum = 0;
    double count = 0;

    static CommitHistogram read(const std::string& metrics) {
        CommitHistogram h;
        const std::string bucket = "hostline_store_commit_seconds_bucket{le=\"";
        std::istringstream lines(metrics);
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind(bucket, 0) != 0) continue;
            const std::string le =
                line.substr(bucket.size(), line.find('"', bucket.size()) - bucket.size());
            const double bound =
                le == "+Inf" ? std::numeric_limits<double>::infinity() : std::atof(le.c_str());
            h.buckets[bound] = std::atof(line.c_str() + line.rfind(' ') + 1);
        }
        h.sum = metric_value(metrics, "hostline_store_commit_seconds_sum");
        h.count = metric_value(metrics, "hostline_store_commit_seconds_count");
        return h;
    }

    CommitHistogram since(const CommitHistogram& before) const {
        CommitHistogram d = *this;
        for (auto& [le, n] : d.buckets) n -= before.buckets.count(le) ? before.buckets.at(le) : 0;
        d.sum -= before.sum;
        d.count -= before.count;
        return d;
    }

    // The upper bound of the bucket holding quantile q (0..1): "at most this long".
    double quantile_bound(double q) const {
        for (const auto& [le, n] : buckets)
            if (n >= q * count) return le;
        return std::numeric_limits<double>::infinity();
    }
};

// The store seen from GET /metrics over a hostline window: the queue depth scraped every
// 100 ms from its own thread, and the COMMITs between the first and last scrape.
class StoreWatch {
  public:
    explicit StoreWatch(const Fleet& fleet)
        : fleet_(fleet), before_(CommitHistogram::read(fleet.metrics())) {
        scraper_ = std::thread([this] {
            try {
                while (!stop_) {
                    const double depth =
                        metric_value(fleet_.metrics(), "hostline_store_queue_depth");
                    max_depth_ = std::max(max_depth_.load(), depth);
                    depth_sum_ = depth_sum_ + depth;
                    ++scrapes_;
                    std::this_thread::sleep_for(kScrapeInterval);
                }
            } catch (...) {
                failure_ = std::current_exception();  // finish() throws it
            }
        });
    }
    ~StoreWatch() { stop(); }
    StoreWatch(const StoreWatch&) = delete;
    StoreWatch& operator=(const StoreWatch&) = delete;

    // Stops scraping; the COMMITs of the window. Throws when a scrape failed.
    CommitHistogram finish() {
        stop();
        if (failure_) std::rethrow_exception(failure_);
        return CommitHistogram::read(fleet_.metrics()).since(before_);
    }
    double max_depth() const { return max_depth_; }
    double mean_depth() const { return scrapes_ ? depth_sum_ / scrapes_ : 0; }
    int scrapes() const { return scrapes_; }

  private:
    void stop() {
        if (!scraper_.joinable()) return;
        stop_ = true;
        scraper_.join();
    }

    const Fleet& fleet_;
    CommitHistogram before_;
    std::exception_ptr failure_;  // written by the scraper, read once it has been joined
    std::atomic<bool> stop_{false};
    std::atomic<double> max_depth_{0};
    std::atomic<double> depth_sum_{0};
    std::atomic<int> scrapes_{0};
    std::thread scraper_;
};

// What the store did over all hostline windows together.
struct StoreFigures {
    CommitHistogram commits;
    double max_depth = 0;
    double depth_sum = 0;
    int scrapes = 0;

    void add(const CommitHistogram& window, const StoreWatch& watch) {
        for (const auto& [le, n] : window.buckets) commits.buckets[le] += n;
        commits.sum += window.sum;
        commits.count += window.count;
        max_depth = std::max(max_depth, watch.max_depth());
        depth_sum += watch.mean_depth() * watch.scrapes();
        scrapes += watch.scrapes();
    }
};

// Counts the runs of these jobs that the store holds as succeeded (GET /api/v1/jobs/ID reads
// the store, behind every write queued before it). Throws unless every run of every job is.
long stored_succeeded_runs(const Fleet& fleet, const std::vector<long>& job_ids) {
    auto api = fleet.client();
    long stored = 0;
    for (long id : job_ids) {
        auto detail = api.get("/api/v1/jobs/" + std::to_string(id));
        if (!detail)
            throw std::runtime_error("job #" + std::to_string(id) + ": " + detail.error().message);
        long succeeded = 0;
        for (const auto& run : (*detail)["runs"])
            succeeded += run.value("state", "") == "succeeded";
        if (succeeded != fleet.size())
            throw std::runtime_error("job #" + std::to_string(id) + ": " +
                                     std::to_string(succeeded) + " of " +
                                     std::to_string(fleet.size()) + " runs stored as succeeded");
        stored += succeeded;
    }
    return stored;
}

// Jobs of `true` on every agent, jobs_in_flight at a time, submitted until the window closes;
// the window ends when the last of them has ended.
Window hostline_window(const Fleet& fleet, const ThroughputSettings& settings,
                       StoreFigures& store) {
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(settings.window_seconds));
    StoreWatch watch(fleet);
    std::mutex mutex;
    std::vector<long> job_ids;
    std::exception_ptr failure;
    std::vector<std::thread> submitters;
    for (int i = 0; i < settings.jobs_in_flight; ++i)
        submitters.emplace_back([&] {
            try {
                auto api = fleet.client();
                while (Clock::now() < deadline) {
                    const long id = fleet.run_everywhere(api, {"true"}).id;
                    std::lock_guard lock(mutex);
                    job_ids.push_back(id);
                    if (failure) return;
                }
            } catch (...) {
                std::lock_guard lock(mutex);
                failure = std::current_exception();
            }
        });
    for (auto& t : submitters) t.join();
    const double seconds = seconds_since(start);
    if (failure) std::rethrow_exception(failure);  // a job that failed says more than metrics
    store.add(watch.finish(), watch);
    return {stored_succeeded_runs(fleet, job_ids), seconds};
}

// posix_spawn + waitpid of /bin/true in `workers` threads until the window closes.
Window bare_window(int workers, double window_seconds) {
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(window_seconds));
    std::atomic<long> spawned{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < workers; ++i)
        threads.emplace_back([&] {
            char arg0[] = "/bin/true";
            char* argv[] = {arg0, nullptr};
            while (Clock::now() < deadline) {
                pid_t pid;
                int status = 0;
                if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0 ||
                    waitpid(pid, &status, 0) != pid || status != 0) {
                    failed = true;
                    return;
                }
                ++spawned;
            }
        });
    for (auto& t : threads) t.join();
    if (failed) throw std::runtime_error("posix_spawn of /bin/true failed");
    return {spawned, seconds_since(start)};
}

}  // namespace

std::vector<ReportRow> run_throughput_bench(const ThroughputSettings& settings) {
    std::fprintf(stderr, "(3) starting a controller and %d agents (capacity %d)...\n",
                 settings.agents, settings.capacity);
    Fleet fleet(
        {.bin_dir = settings.bin_dir, .agents = settings.agents, .capacity = settings.capacity});
    {
        auto api = fleet.client();
        fleet.run_everywhere(api, {"true"});  // warm up
    }
    const int workers = settings.agents * settings.capacity;
    std::fprintf(stderr,
                 "  %d rounds of %.0f s windows: %d jobs in flight of true on %d agents, then "
                 "posix_spawn+waitpid of /bin/true in %d workers\n",
                 settings.rounds, settings.window_seconds, settings.jobs_in_flight, settings.agents,
                 workers);
    std::vector<double> hostline_rates, bare_rates;
    StoreFigures store;
    long stored_runs = 0;
    double hostline_seconds = 0;
    const auto threads_before = fleet.controller_threads();
    // What each side's processes spent on a CPU in its windows: the fleet's (controller,
    // agents, their `true`s) and the submitters' (this process) in hostline's; this process
    // and its `true`s in the bare ones.
    FleetCpu hostline_cpu;
    double submitters_cpu = 0, bare_cpu = 0, machine_busy_seconds = 0;
    long bare_spawns = 0;
    for (int round = 1; round <= settings.rounds; ++round) {
        const FleetCpu fleet_before = fleet.cpu();
        double own_before = bench_process_cpu_seconds();
        const MachineLoad machine;
        const Window hostline = hostline_window(fleet, settings, store);
        machine_busy_seconds += machine.busy_since() * hostline.seconds;
        submitters_cpu += bench_process_cpu_seconds() - own_before;
        hostline_cpu += fleet.cpu() - fleet_before;
        own_before = bench_process_cpu_seconds();
        const Window bare = bare_window(workers, settings.window_seconds);
        bare_cpu += bench_process_cpu_seconds() - own_before;
        bare_spawns += bare.runs;
        hostline_rates.push_back(hostline.rate());
        bare_rates.push_back(bare.rate());
        stored_runs += hostline.runs;
        hostline_seconds += hostline.seconds;
        std::fprintf(stderr,
                     "  round %d: hostline %ld runs stored in %.2f s = %.0f/s; bare %ld spawns "
                     "in %.2f s = %.0f/s\n",
                     round, hostline.runs, hostline.seconds, hostline.rate(), bare.runs,
                     bare.seconds, bare.rate());
    }
    // Where hostline's time went. CPU does not depend on what else the machine runs as the
    // rates do: on a shared machine, 400 spawning threads win more of it than 100 agents.
    const double runs = static_cast<double>(stored_runs);
    std::fprintf(stderr,
                 "  CPU in hostline's windows: controller %.2f s, agents %.2f s, their `true`s "
                 "%.2f s: %.3f ms a stored run (the submitters, this process: %.2f s); bare: "
                 "%.3f ms a spawn; the machine was %.0f%% busy in hostline's windows\n",
                 hostline_cpu.controller, hostline_cpu.agents, hostline_cpu.agents_children,
                 hostline_cpu.total() * 1000 / runs, submitters_cpu,
                 bare_cpu * 1000 / static_cast<double>(bare_spawns),
                 100 * machine_busy_seconds / hostline_seconds);
    const auto threads_after = fleet.controller_threads();
    std::string per_thread;
    for (std::size_t i = 0; i < threads_after.size(); ++i) {
        const Fleet::Thread before =
            i < threads_before.size() ? threads_before[i] : Fleet::Thread{};
        char text[128];
        std::snprintf(text, sizeof text, "%s%s %.2f s (waited %.2f s)",
                      per_thread.empty() ? "" : ", ", threads_after[i].name.c_str(),
                      threads_after[i].on_cpu - before.on_cpu,
                      threads_after[i].waiting - before.waiting);
        per_thread += text;
    }
    // Waited: runnable but not running, for want of a CPU.
    std::fprintf(stderr, "  controller threads on a CPU over the rounds: %s\n", per_thread.c_str());
    const CommitHistogram& commits = store.commits;
    std::fprintf(
        stderr,
        "  store: %.0f COMMITs, %.3f ms mean, p99 <= %g ms, %.2f s in all (%.1f%% of "
        "the wall time); queue depth mean %.1f, max %.0f (%d scrapes)\n",
        commits.count, commits.count ? commits.sum * 1000 / commits.count : 0,
        commits.quantile_bound(0.99) * 1000, commits.sum, 100 * commits.sum / hostline_seconds,
        store.scrapes ? store.depth_sum / store.scrapes : 0, store.max_depth, store.scrapes);

    const double hostline_rate = percentile(hostline_rates, 0.5);
    const double bare_rate = percentile(bare_rates, 0.5);
    char label[160];
    std::snprintf(label, sizeof label,
                  "(3) runs on %d agents, ms per stored run [%.0f vs %.0f runs/s]", settings.agents,
                  hostline_rate, bare_rate);
    char cpu_label[160];
    std::snprintf(cpu_label, sizeof cpu_label, "(3) CPU per run on %d agents (controller %.0f%%)",
                  settings.agents, 100 * hostline_cpu.controller / hostline_cpu.total());
    char store_label[160];
    std::snprintf(store_label, sizeof store_label,
                  "(3) store COMMIT ms per stored run [queue depth max %.0f]", store.max_depth);
    return {
        {label, 1000 / hostline_rate, 1000 / bare_rate, kTargetRatio},
        {cpu_label, hostline_cpu.total() * 1000 / runs,
         bare_cpu * 1000 / static_cast<double>(bare_spawns)},
        {store_label, commits.sum * 1000 / static_cast<double>(stored_runs),
         hostline_seconds * 1000 / runs},
    };
}

}  // namespace hostline::bench
