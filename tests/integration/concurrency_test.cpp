// Concurrency and retries end to end: the real controller and agents, jobs asked for through
// the API and the terminal chat, and what each agent actually did read from its own clock
// (`date +%s.%N` before and after each run's work) rather than from the controller's records.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The agent's own times: when the work began and ended on the host.
struct Span {
    std::string agent;
    double start = 0;
    double end = 0;
};

// A program that prints the host's clock, works for `seconds`, and prints it again.
std::vector<std::string> stamped_sleep(const std::string& seconds) {
    return {"sh", "-c", "date +%s.%N; sleep " + seconds + "; date +%s.%N"};
}

// The most spans open at one moment.
std::size_t most_at_once(std::vector<Span> spans) {
    std::vector<std::pair<double, int>> edges;
    for (const Span& s : spans) {
        edges.emplace_back(s.start, +1);
        edges.emplace_back(s.end, -1);
    }
    std::sort(edges.begin(), edges.end());  // an end before a start at the same instant
    int open = 0, most = 0;
    for (const auto& [at, step] : edges) most = std::max(most, open += step);
    return static_cast<std::size_t>(most);
}

const char* kCatalog = R"toml(
[[command]]
name = "stamp"
summary = "Print the host's clock around a short piece of work"
run = ["sh", "-c", "date +%s.%N; sleep 0.3; date +%s.%N"]
concurrency = 1

[[command]]
name = "restart-nginx"
summary = "Stand-in for a restart that must not run twice at once"
run = ["sleep", "3"]
concurrency = 1
on_busy = "refuse"

[[command]]
name = "flaky"
summary = "Fails the first time on a host, succeeds after"
run = ["sh", "-c", "if [ -e \"$MARK\" ]; then echo second try; else touch \"$MARK\"; echo first try; exit 1; fi"]
env = { MARK = "MARKER_PATH" }
retries = 2
retry_on = ["failed"]
retry_backoff = "1s"
)toml";

const char* kPolicy = R"toml(
[roles.operator]
permissions = ["command.stamp", "command.restart-nginx", "command.flaky"]
targets = "*"

[groups.ops]
members = ["local:bob"]
roles = ["operator"]
)toml";

class ConcurrencyEndToEnd : public ClusterTest {
  protected:
    void SetUp() override {
        std::string catalog = kCatalog;
        catalog.replace(catalog.find("MARKER_PATH"), 11, cluster.dir() + "/flaky.marker");
        cluster.set_catalog(catalog);
        cluster.set_policy(kPolicy);
    }

    json job(long id) { return cluster.cli_json({"job", std::to_string(id)}); }

    // Each run's span from its stdout: the first and the last line are the host's clock.
    std::vector<Span> spans_of(long job_id) {
        HttpReply reply = cluster.http_get("/api/v1/jobs/" + std::to_string(job_id) + "/output",
                                           cluster.admin_secret());
        EXPECT_EQ(reply.status, 200) << reply.body;
        std::map<std::int64_t, std::pair<std::string, std::string>> text;  // run -> agent, stdout
        const json stored = json::parse(reply.body);
        for (const json& chunk : stored.at("output"))
            if (chunk.at("stream") == "stdout") {
                auto& [agent, data] = text[chunk.at("run_id").get<std::int64_t>()];
                agent = chunk.at("agent").get<std::string>();
                data += chunk.at("data").get<std::string>();
            }
        std::vector<Span> spans;
        for (const auto& [run, agent_data] : text) {
            std::istringstream lines(agent_data.second);
            Span span{agent_data.first};
            lines >> span.start >> span.end;
            EXPECT_TRUE(lines) << "run " << run << " printed: " << agent_data.second;
            spans.push_back(span);
        }
        return spans;
    }
};

TEST_F(ConcurrencyEndToEnd, AnAgentWithCapacityTwoRunsAtMostTwoOfAHundredQueuedRuns) {
    cluster.start_controller();
    cluster.add_agent("web-1", {.capacity = 2});
    cluster.wait_online({"web-1"});
    std::vector<long> jobs;
    for (int i = 0; i < 100; ++i)
        jobs.push_back(cluster
                           .post_api("/api/v1/jobs",
                                     json{{"target", "web-1"}, {"argv", stamped_sleep("0.05")}})
                           .at("job")
                           .get<long>());
    // While most wait, the last one says where it stands, in the API and the CLI.
    json waiting = job(jobs.back());
    const json& run = waiting.at("runs").at(0);
    if (run.at("state") == "queued") {
        EXPECT_GT(run.at("queue_position").get<int>(), 1) << waiting.dump();
        CommandResult shown = cluster.cli({"job", std::to_string(jobs.back())});
        EXPECT_NE(shown.out.find("queued (position "), std::string::npos) << shown.out;
    } else {
        ADD_FAILURE() << "the 100th run was not waiting right after it was asked for: "
                      << waiting.dump();
    }

    std::vector<Span> spans;
    for (long id : jobs) {
        json done = cluster.wait_job(
            id, [](const json& d) { return d["job"]["state"] != "running"; }, 120s);
        ASSERT_EQ(done["job"]["state"], "succeeded") << done.dump();
        EXPECT_TRUE(done["runs"][0]["queue_position"].is_null());
        for (const Span& s : spans_of(id)) spans.push_back(s);
    }
    ASSERT_EQ(spans.size(), 100u);
    EXPECT_EQ(most_at_once(spans), 2u) << "capacity 2: two at once, never more";
}

TEST_F(ConcurrencyEndToEnd, ACommandWithConcurrencyOneNeverOverlapsItselfAcrossHosts) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.add_agent("web-2");
    cluster.wait_online({"web-1", "web-2"});
    // Five requests at once, each on both hosts: ten runs that may only run one by one.
    std::vector<std::future<std::string>> asked;
    for (int i = 0; i < 5; ++i)
        asked.push_back(std::async(std::launch::async,
                                   [this] { return cluster.chat("local:bob", "stamp --on *"); }));
    // Meanwhile some run waits in line, and its job says where.
    bool saw_position = false;
    for (auto end = std::chrono::steady_clock::now() + 10s;
         !saw_position && std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(100ms))
        for (long id = 1; id <= 5 && !saw_position; ++id) {
            json d = cluster.try_cli_json({"job", std::to_string(id)});
            for (const json& r : d.value("runs", json::array()))
                saw_position = saw_position || (r.value("queue_position", json()).is_number() &&
                                                r["queue_position"].get<int>() >= 1);
        }
    EXPECT_TRUE(saw_position) << "no queued run showed a position";

    std::vector<Span> spans;
    for (auto& answer : asked) {
        std::string text = answer.get();
        std::smatch m;
        ASSERT_TRUE(std::regex_search(text, m, std::regex("job #(\\d+) succeeded"))) << text;
        for (const Span& s : spans_of(std::stol(m[1]))) spans.push_back(s);
    }
    ASSERT_EQ(spans.size(), 10u);
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.start < b.start; });
    for (std::size_t i = 1; i < spans.size(); ++i)
        EXPECT_GE(spans[i].start, spans[i - 1].end)
            << spans[i].agent << " started before " << spans[i - 1].agent << " had finished";
    std::set<std::string> hosts;
    for (const Span& s : spans) hosts.insert(s.agent);
    EXPECT_EQ(hosts.size(), 2u) << "both hosts ran it, one after the other";
}

TEST_F(ConcurrencyEndToEnd, OnBusyRefuseTurnsASecondRequestAwayWithTheRunningJob) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    auto first = std::async(std::launch::async, [this] {
        return cluster.chat("local:bob", "restart-nginx --on web-1");
    });
    json running =
        cluster.wait_job(1, [](const json& d) { return d["runs"][0]["state"] == "running"; });
    ASSERT_EQ(running["runs"][0]["state"], "running") << running.dump();

    EXPECT_EQ(cluster.chat("local:bob", "restart-nginx --on web-1"),
              "error: restart-nginx is already running (job #1); it allows one at a time\n");
    EXPECT_NE(first.get().find("job #1 succeeded"), std::string::npos);
    EXPECT_NE(cluster.chat("local:bob", "restart-nginx --on web-1").find("job #2 succeeded"),
              std::string::npos)
        << "once the first ended, the next is welcome";
}

TEST_F(ConcurrencyEndToEnd, ACommandThatFailsOnceSucceedsOnItsSecondAttemptAndBothAreInHistory) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    std::string answer = cluster.chat("local:bob", "flaky --on web-1");
    EXPECT_NE(answer.find("job #1 succeeded: 1 succeeded"), std::string::npos) << answer;
    EXPECT_NE(answer.find("attempt 2"), std::string::npos) << answer;

    json d = job(1);
    EXPECT_EQ(d["job"]["state"], "succeeded");
    ASSERT_EQ(d["runs"].size(), 2u) << d.dump();
    EXPECT_EQ(d["runs"][0]["attempt"], 1);
    EXPECT_EQ(d["runs"][0]["state"], "failed");
    EXPECT_EQ(d["runs"][0]["exit_code"], 1);
    EXPECT_EQ(d["runs"][1]["attempt"], 2);
    EXPECT_EQ(d["runs"][1]["state"], "succeeded");
    EXPECT_GE(d["runs"][1]["started_at_ms"].get<std::int64_t>(),
              d["runs"][0]["ended_at_ms"].get<std::int64_t>() + 1000)
        << "the second attempt waited out the 1s backoff";

    CommandResult shown = cluster.cli({"job", "1", "--output"});
    EXPECT_NE(shown.out.find("web-1 (attempt 1)"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("web-1 (attempt 2)"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("web-1 | first try\nweb-1 | second try\n"), std::string::npos)
        << "each attempt's output, in order: " << shown.out;
}

TEST_F(ConcurrencyEndToEnd, TheGlobalCapHoldsAcrossAgentsThatHaveRoomToSpare) {
    cluster.add_controller_config("[scheduler]\nmax_running_runs = 2\n");
    cluster.start_controller();
    for (const char* name : {"web-1", "web-2", "web-3"}) cluster.add_agent(name);
    cluster.wait_online({"web-1", "web-2", "web-3"});
    std::vector<long> jobs;
    for (int i = 0; i < 4; ++i)
        jobs.push_back(
            cluster.post_api("/api/v1/jobs", json{{"target", "*"}, {"argv", stamped_sleep("0.2")}})
                .at("job")
                .get<long>());
    std::vector<Span> spans;
    for (long id : jobs) {
        json done = cluster.wait_job(
            id, [](const json& d) { return d["job"]["state"] != "running"; }, 60s);
        ASSERT_EQ(done["job"]["state"], "succeeded") << done.dump();
        for (const Span& s : spans_of(id)) spans.push_back(s);
    }
    ASSERT_EQ(spans.size(), 12u);
    EXPECT_EQ(most_at_once(spans), 2u) << "three agents with room for 4 each, two runs at once";
}

}  // namespace
}  // namespace hostline::testing
