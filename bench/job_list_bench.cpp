#include "bench/job_list_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cluster_api.hpp"
#include "bench/job_history.hpp"
#include "bench/keep_alive_client.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using hostline::testing::LocalCluster;

constexpr int kSmallJobs = 100;
constexpr int kMiddleJobs = 10'000;
// The target: p99 against the large store within 2x of the same request against 100.
constexpr double kTargetRatio = 2.0;

// One controller on a filled store, and a connection to it.
struct Controller {
    int jobs = 0;
    std::unique_ptr<LocalCluster> cluster;
    std::unique_ptr<KeepAliveClient> client;
};

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
    c.client = std::make_unique<KeepAliveClient>(c.cluster->http_url(), admin_token_of(*c.cluster));
}

struct Request {
    std::string label;
    // The target for a store of this many jobs: a later page starts at the same depth in each.
    std::string (*target)(int jobs);
    // One of the rows the target is judged on (p99 within 2x): the request answers
    // alike at 100 jobs and at the large store (as many jobs; the page, as many bytes), so
    // the ratio shows what the table's size costs and nothing else. Checked before timing.
    bool like_for_like = false;
    bool page = false;  // the UI page: may answer other than 200 (see below)
};

// Fixed at the first call, so that every request of a run asks for the same window.
std::int64_t half_an_hour_ago() {
    using namespace std::chrono;
    static const std::int64_t at =
        duration_cast<milliseconds>(system_clock::now().time_since_epoch() - minutes(30)).count();
    return at;
}

std::string constant(const char* target) {
    return target;
}

// The target rows first, then three that answer fewer jobs at 100 than at 100,000 and so
// compare a full page against a short or empty one (docs/performance.md): kept, as context.
const std::vector<Request>& requests() {
    static const std::vector<Request> all{
        {"(c) GET /api/v1/jobs", [](int) { return constant("/api/v1/jobs"); }, true},
        // 62% of jobs: a full page at every size.
        {"(j) GET /api/v1/jobs?state=succeeded",
         [](int) { return constant("/api/v1/jobs?state=succeeded"); }, true},
        // token:ci asks for 80% of jobs (bench/job_history.hpp): full pages at every size.
        {"(k) GET /api/v1/jobs?requester=token:ci",
         [](int) { return constant("/api/v1/jobs?requester=token:ci"); }, true},
        {"(l) GET /api/v1/jobs?requester=token:ci&state=succeeded",
         [](int) { return constant("/api/v1/jobs?requester=token:ci&state=succeeded"); }, true},
        // The middle of the history: 50 jobs below it at 100 jobs (before=51), and the same
        // relative depth in the others (5,001 and 50,001).
        {"(m) GET /api/v1/jobs?before=N/2+1",
         [](int jobs) { return "/api/v1/jobs?before=" + std::to_string(jobs / 2 + 1); }, true},
        // The oldest page at every size, the deepest a client pages to.
        {"(n) GET /api/v1/jobs?before=51", [](int) { return constant("/api/v1/jobs?before=51"); },
         true},
        {"(g) GET /api/v1/jobs?state=running&host=web-07",
         [](int) { return constant("/api/v1/jobs?state=running&host=web-07"); }, true},
        // The jobs of the last half hour: 30 in every store (one a minute up to now).
        {"(h) GET /api/v1/jobs?since=<30 min ago>",
         [](int) { return "/api/v1/jobs?since=" + std::to_string(half_an_hour_ago()); }, true},
        {"(i) GET /ui/", [](int) { return constant("/ui/"); }, true, true},
        // At 100 jobs web-07 has no failed job: an empty page against a full one.
        {"(d) GET /api/v1/jobs?state=failed&host=web-07",
         [](int) { return constant("/api/v1/jobs?state=failed&host=web-07"); }},
        // At 100 jobs one deploy job is below id 25: one job against a full page.
        {"(e) GET /api/v1/jobs?command=deploy&before=N/4",
         [](int jobs) {
             return "/api/v1/jobs?command=deploy&limit=50&before=" + std::to_string(jobs / 4);
         }},
        // About 24 at 100 jobs: half a page against a full one.
        {"(f) GET /api/v1/jobs?state=failed,timed_out",
         [](int) { return constant("/api/v1/jobs?state=failed,timed_out"); }},
    };
    return all;
}

// What an answer holds, to compare one store's with another's: the jobs on a list page, the
// bytes of anything else (the UI page, an error).
std::size_t answer_size(const Answer& answer, bool page) {
    if (page || answer.status != 200) return answer.body_bytes;
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    if (!body.is_object() || !body.contains("jobs") || !body["jobs"].is_array())
        throw std::runtime_error("a jobs list answered without a jobs array: " +
                                 answer.body.substr(0, 200));
    return body["jobs"].size();
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
    // a cost grows with the table or only until pages are full (docs/performance.md); never
    // more than the large one (a smoke pass makes that small).
    const std::vector<int> sizes{kSmallJobs, std::min(kMiddleJobs, settings.large_jobs),
                                 settings.large_jobs};
    std::fprintf(stderr, "(c-n) job list: filling stores of %d, %d and %d jobs\n", sizes[0],
                 sizes[1], sizes[2]);
    std::vector<Controller> controllers;
    for (int jobs : sizes) controllers.push_back(filled(settings.bin_dir, jobs));
    // Started together, so that all are as old when measured (each restores the same few
    // running jobs, which it declares lost after agent_grace).
    for (Controller& c : controllers) start(c);

    // Each request once on each, to see it answers (and what), then the warm-up.
    // notes[request]: the label's suffix, what it answered on each store.
    std::vector<std::string> notes(requests().size());
    // status[controller][request]: the answer every timed request must repeat.
    std::vector<std::vector<unsigned>> status(controllers.size(),
                                              std::vector<unsigned>(requests().size()));
    for (std::size_t r = 0; r < requests().size(); ++r) {
        const Request& request = requests()[r];
        std::vector<std::size_t> sizes_answered;
        for (std::size_t c = 0; c < controllers.size(); ++c) {
            const std::string target = request.target(controllers[c].jobs);
            const Answer answer = controllers[c].client->get(target);
            status[c][r] = answer.status;
            // The page's answer is timed whatever it is (a 404 before the UI is merged, a
            // redirect to a login page if it asks for a session), and the table says which.
            if (answer.status != 200 && !(request.page && answer.status < 500))
                throw std::runtime_error("GET " + target + " answered " +
                                         std::to_string(answer.status));
            sizes_answered.push_back(answer_size(answer, request.page));
            std::fprintf(stderr, "  %6d jobs: GET %s -> %u, %zu bytes, %zu %s\n",
                         controllers[c].jobs, target.c_str(), answer.status, answer.body_bytes,
                         sizes_answered.back(), request.page ? "bytes" : "jobs");
        }
        // A target row whose answers differ would measure the difference, not the table.
        if (request.like_for_like && (sizes_answered.front() != sizes_answered.back() ||
                                      status.front()[r] != status.back()[r]))
            throw std::runtime_error(request.label + " answers " +
                                     std::to_string(sizes_answered.front()) + " at " +
                                     std::to_string(controllers.front().jobs) + " jobs and " +
                                     std::to_string(sizes_answered.back()) + " at " +
                                     std::to_string(controllers.back().jobs) +
                                     ": not like for like, so not a target row");
        std::string note = " [";
        for (std::size_t c = 0; c < sizes_answered.size(); ++c)
            note += (c ? "/" : "") + std::to_string(sizes_answered[c]);
        note += request.page ? " bytes" : " jobs";
        if (status.back()[r] != 200) note += ", " + std::to_string(status.back()[r]);
        notes[r] = note + "]";
        for (int i = 0; i < settings.warm_up; ++i)
            for (Controller& c : controllers) c.client->get(request.target(c.jobs));
    }

    // Round-robin over the controllers, starting with a different one each time, so that
    // whatever else the machine does at a moment falls on all alike. One kind of request at a
    // time: a request's side effects then weigh on its own row only (a list by another
    // requester appends an audit row, and its commit would delay whatever came next).
    std::fprintf(stderr, "  %d timed requests of each kind on each controller\n",
                 settings.requests);
    // ms[controller][request]: every timing.
    std::vector<std::vector<std::vector<double>>> ms(
        controllers.size(), std::vector<std::vector<double>>(requests().size()));
    for (std::size_t r = 0; r < requests().size(); ++r) {
        for (int i = 0; i < settings.requests; ++i) {
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

    // The target is on the p99 of the like-for-like rows; their p50 and the other
    // rows are there to read it by.
    std::vector<ReportRow> rows;
    for (std::size_t r = 0; r < requests().size(); ++r) {
        for (double p : {0.5, 0.99}) {
            const bool judged = p == 0.99 && requests()[r].like_for_like;
            rows.push_back({requests()[r].label + notes[r] + (p == 0.5 ? ", p50" : ", p99"),
                            percentile(ms.back()[r], p), percentile(ms.front()[r], p),
                            judged ? kTargetRatio : 0});
        }
    }
    return rows;
}

}  // namespace hostline::bench
