#include "bench/job_list_bench.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/job_history.hpp"
#include "bench/keep_alive_client.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using hostline::testing::LocalCluster;

constexpr int kSmallJobs = 100;
constexpr int kMiddleJobs = 10'000;

// One controller on a filled store, and a connection to it.
struct Controller {
    int jobs = 0;
    std::unique_ptr<LocalCluster> cluster;
    std::unique_ptr<KeepAliveClient> client;
};

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// A cluster whose store holds `jobs` jobs; its controller is not started yet.
Controller filled(const std::string& bin_dir, int jobs) {
    Controller c;
    c.jobs = jobs;
    c.cluster = std::make_unique<LocalCluster>(bin_dir);
    c.cluster->set_log_level("warn");
    // The controller's data_dir, as LocalCluster writes it into controller.toml.
    const std::string database = c.cluster->dir() + "/controller/hostline.db";
    const auto started = Clock::now();
    fill_job_history(database, {.jobs = jobs}, [&](int committed) {
        std::fprintf(stderr, "  filling the %d-job store: %d committed (%.1f s)\n", jobs, committed,
                     std::chrono::duration<double>(Clock::now() - started).count());
    });
    return c;
}

void start(Controller& c) {
    c.cluster->start_controller();
    c.client = std::make_unique<KeepAliveClient>(c.cluster->http_url(),
                                                 first_line(c.cluster->token_file()));
}

struct Request {
    std::string label;
    // The target for a store of this many jobs: a later page starts at the same depth in each.
    std::string (*target)(int jobs);
    bool page = false;  // the UI page: may answer other than 200 (see below)
};

// Fixed at the first call, so that every request of a run asks for the same window.
std::int64_t half_an_hour_ago() {
    using namespace std::chrono;
    static const std::int64_t at =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch() - minutes(30)).count();
    return at;
}

const std::vector<Request>& requests() {
    static const std::vector<Request> all{
        {"(c) GET /api/v1/jobs", [](int) { return std::string("/api/v1/jobs"); }},
        {"(d) GET /api/v1/jobs?state=failed&host=web-07",
         [](int) { return std::string("/api/v1/jobs?state=failed&host=web-07"); }},
        {"(e) GET /api/v1/jobs?command=deploy&before=N/4",
         [](int jobs) {
             return "/api/v1/jobs?command=deploy&limit=50&before=" + std::to_string(jobs / 4);
         }},
        {"(f) GET /api/v1/jobs?state=failed,timed_out",
         [](int) { return std::string("/api/v1/jobs?state=failed,timed_out"); }},
        {"(g) GET /api/v1/jobs?state=running&host=web-07",
         [](int) { return std::string("/api/v1/jobs?state=running&host=web-07"); }},
        // The jobs of the last half hour: 30 in every store (one a minute up to now).
        {"(h) GET /api/v1/jobs?since=<30 min ago>",
         [](int) { return "/api/v1/jobs?since=" + std::to_string(half_an_hour_ago()); }},
        {"(i) GET /ui/", [](int) { return std::string("/ui/"); }, true},
    };
    return all;
}

// The time of one GET, which must answer as it did when checked: a request that starts
// failing part way would otherwise be timed as an error page.
double timed_get(KeepAliveClient& client, const std::string& target, unsigned status) {
    const auto start = Clock::now();
    const Answer answer = client.get(target);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (answer.status != status)
        throw std::runtime_error("GET " + target + " answered " + std::to_string(answer.status) +
                                 ", not " + std::to_string(status) + " as at first");
    return ms;
}

}  // namespace

std::vector<ReportRow> run_job_list_bench(const JobListSettings& settings) {
    if (settings.requests < 1) throw std::runtime_error("the job list needs 1 request or more");
    // 100 is the baseline and large_jobs what is measured; 10,000 in between shows whether
    // a cost grows with the table or only until pages are full (docs/performance.md).
    const std::vector<int> sizes{kSmallJobs, kMiddleJobs, settings.large_jobs};
    std::fprintf(stderr, "(c-i) job list: filling stores of %d, %d and %d jobs\n", sizes[0],
                 sizes[1], sizes[2]);
    std::vector<Controller> controllers;
    for (int jobs : sizes) controllers.push_back(filled(settings.bin_dir, jobs));
    // Started together, so that all are as old when measured (each restores the same few
    // running jobs, which it declares lost after agent_grace).
    for (Controller& c : controllers) start(c);

    // Each request once on each, to see it answers (and what), then the warm-up.
    std::vector<std::string> notes(requests().size());
    // status[controller][request]: the answer every timed request must repeat.
    std::vector<std::vector<unsigned>> status(controllers.size(),
                                              std::vector<unsigned>(requests().size()));
    for (std::size_t r = 0; r < requests().size(); ++r) {
        const Request& request = requests()[r];
        for (std::size_t c = 0; c < controllers.size(); ++c) {
            const std::string target = request.target(controllers[c].jobs);
            const Answer answer = controllers[c].client->get(target);
            status[c][r] = answer.status;
            std::fprintf(stderr, "  %6d jobs: GET %s -> %u, %zu bytes\n", controllers[c].jobs,
                         target.c_str(), answer.status, answer.body_bytes);
            // The page's answer is timed whatever it is (a 404 before the UI is merged, a
            // redirect to a login page if it asks for a session), and the table says which.
            if (answer.status != 200 && !(request.page && answer.status < 500))
                throw std::runtime_error("GET " + target + " answered " +
                                         std::to_string(answer.status));
            if (answer.status != 200) notes[r] = " [" + std::to_string(answer.status) + "]";
        }
        for (int i = 0; i < settings.warm_up; ++i)
            for (Controller& c : controllers) c.client->get(request.target(c.jobs));
    }

    // Round-robin over the controllers, starting with a different one each time, so that
    // whatever else the machine does at a moment falls on all alike.
    std::fprintf(stderr, "  %d timed requests of each kind on each controller\n",
                 settings.requests);
    // ms[controller][request]: every timing.
    std::vector<std::vector<std::vector<double>>> ms(
        controllers.size(), std::vector<std::vector<double>>(requests().size()));
    for (int i = 0; i < settings.requests; ++i) {
        for (std::size_t r = 0; r < requests().size(); ++r) {
            for (std::size_t k = 0; k < controllers.size(); ++k) {
                const std::size_t c = (static_cast<std::size_t>(i) + k) % controllers.size();
                ms[c][r].push_back(timed_get(*controllers[c].client,
                                             requests()[r].target(controllers[c].jobs),
                                             status[c][r]));
            }
        }
    }

    // The tail in more detail than the table's p50 and p99: on a shared machine the p99 is
    // often one scheduler time slice, on any side.
    for (std::size_t r = 0; r < requests().size(); ++r) {
        std::fprintf(stderr, "  %s\n", requests()[r].label.c_str());
        for (std::size_t c = 0; c < controllers.size(); ++c) {
            const std::vector<double>& t = ms[c][r];
            std::fprintf(stderr,
                         "    %6d jobs: p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  max %.2f ms\n",
                         controllers[c].jobs, percentile(t, 0.5), percentile(t, 0.9),
                         percentile(t, 0.95), percentile(t, 0.99), percentile(t, 1.0));
        }
    }

    std::vector<ReportRow> rows;
    for (std::size_t r = 0; r < requests().size(); ++r) {
        for (double p : {0.5, 0.99}) {
            rows.push_back({requests()[r].label + notes[r] + (p == 0.5 ? ", p50" : ", p99"),
                            percentile(ms.back()[r], p), percentile(ms.front()[r], p)});
        }
    }
    return rows;
}

}  // namespace hostline::bench
