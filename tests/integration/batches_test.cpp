// Rollouts end to end (docs/scheduling.md, "Batches"): real agents run
// `date +%s.%N; sleep 1; date +%s.%N`, and the window, fail-fast and --batch-wait are checked
// from the timestamps the agents' own processes printed, not from the controller's records.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Prints when it starts and when it ends, by the agent host's clock.
const std::string kTimed = "date +%s.%N; sleep 1; date +%s.%N";

struct Span {
    std::string agent;
    double start = 0;
    double end = 0;
};

// Each run's first and last timestamp, from `hostline run --json`'s per-run output.
std::vector<Span> spans_of(const json& doc) {
    std::vector<Span> spans;
    for (const json& run : doc.at("runs")) {
        std::istringstream lines(run.value("output", ""));
        std::vector<double> stamps;
        for (std::string line; std::getline(lines, line);)
            if (!line.empty() && line.find_first_not_of("0123456789.") == std::string::npos)
                stamps.push_back(std::stod(line));
        if (stamps.size() >= 2)
            spans.push_back({run.value("agent", ""), stamps.front(), stamps.back()});
    }
    std::sort(spans.begin(), spans.end(),
              [](const Span& a, const Span& b) { return a.start < b.start; });
    return spans;
}

// The most runs whose [start, end] overlapped at any instant.
std::size_t most_at_once(const std::vector<Span>& spans) {
    std::vector<std::pair<double, int>> events;
    for (const Span& s : spans) {
        events.push_back({s.start, +1});
        events.push_back({s.end, -1});
    }
    std::sort(events.begin(), events.end());  // at a tie, an end (-1) comes before a start
    int now = 0, most = 0;
    for (const auto& [at, delta] : events) most = std::max(most, now += delta);
    return static_cast<std::size_t>(most);
}

std::string describe(const std::vector<Span>& spans) {
    std::string text;
    for (const Span& s : spans)
        text += s.agent + " " + std::to_string(s.start) + " .. " + std::to_string(s.end) + "\n";
    return text;
}

class Batches : public ClusterTest {
  protected:
    void start(int agents) {
        cluster.set_policy(
            "[roles.ops]\npermissions = [\"run.adhoc\"]\ntargets = \"*\"\n\n"
            "[groups.ops]\nmembers = [\"local:ops\"]\nroles = [\"ops\"]\n");
        cluster.start_controller();
        std::vector<std::string> names;
        for (int i = 1; i <= agents; ++i) {
            names.push_back("web-" + std::to_string(i));
            cluster.add_agent(names.back(), {.labels = {{"role", "web"}}});
        }
        cluster.wait_online(names);
    }
    json run(std::vector<std::string> options, const std::string& script, int* exit_code) {
        std::vector<std::string> args{"run", "--on", "role=web"};
        args.insert(args.end(), options.begin(), options.end());
        for (const char* word : {"--", "sh", "-c"}) args.push_back(word);
        args.push_back(script);
        return cluster.cli_json(args, exit_code);
    }
};

TEST_F(Batches, WindowsOfOneTwoAndHalfTheHostsAreNeverExceededAndAreFilled) {
    start(6);
    struct Case {
        std::string batch;
        std::size_t window;
    };
    for (const Case& c : {Case{"1", 1}, Case{"2", 2}, Case{"50%", 3}}) {
        int exit_code = -1;
        json doc = run({"--batch", c.batch}, kTimed, &exit_code);
        ASSERT_EQ(exit_code, 0) << doc.dump();
        EXPECT_EQ(doc["job"]["state"], "succeeded");
        EXPECT_EQ(doc["job"]["batch"], c.batch);
        EXPECT_EQ(doc["job"]["batch_window"], c.window);
        std::vector<Span> spans = spans_of(doc);
        ASSERT_EQ(spans.size(), 6u) << doc.dump();
        // Never more than the window at once, and a sliding window keeps it full: with six
        // one-second runs it reaches the window.
        EXPECT_EQ(most_at_once(spans), c.window) << "--batch " << c.batch << "\n"
                                                 << describe(spans);
        // Hosts go in name order (runs released together may start in either order).
        if (c.window == 1) {
            for (std::size_t i = 0; i + 1 < spans.size(); ++i) {
                EXPECT_LT(spans[i].agent, spans[i + 1].agent) << describe(spans);
            }
        }
    }
}

TEST_F(Batches, FailFastStartsNoRunAfterAFailureAndListsTheHostsThatNeverRan) {
    start(6);
    // web-2's run fails at once; every other host's takes a second.
    const std::string script =
        "date +%s.%N; if [ \"$HOSTLINE_AGENT\" = web-2 ]; then date +%s.%N; exit 7; fi; "
        "sleep 1; date +%s.%N";
    int exit_code = -1;
    json doc = run({"--batch", "2", "--fail-fast"}, script, &exit_code);
    EXPECT_EQ(exit_code, 1) << doc.dump();
    EXPECT_EQ(doc["job"]["state"], "partial");
    std::map<std::string, json> runs;
    for (const json& r : doc["runs"]) runs[r.value("agent", "")] = r;
    EXPECT_EQ(runs["web-1"]["state"], "succeeded") << "a run in flight finishes";
    EXPECT_EQ(runs["web-2"]["state"], "failed");
    for (const char* host : {"web-3", "web-4", "web-5", "web-6"}) {
        EXPECT_EQ(runs[host]["state"], "skipped") << host;
        EXPECT_EQ(runs[host]["error"], "not started: fail-fast after web-2 failed") << host;
        EXPECT_EQ(runs[host].value("output", ""), "") << host << " never ran";
    }
    // By the agents' clocks: the only runs that ever started began before web-2 failed.
    std::vector<Span> spans = spans_of(doc);
    ASSERT_EQ(spans.size(), 2u) << describe(spans);

    // The API lists the hosts that never ran, and why.
    const long id = doc["job"]["id"].get<long>();
    ApiAnswer answer =
        cluster.api("GET", "/api/v1/jobs/" + std::to_string(id), cluster.admin_secret());
    ASSERT_EQ(answer.status, 200) << answer.body;
    json detail = json::parse(answer.body);
    EXPECT_EQ(detail["not_started"]["hosts"], json({"web-3", "web-4", "web-5", "web-6"}));
    EXPECT_EQ(detail["not_started"]["reason"], "fail-fast after web-2 failed");
    EXPECT_EQ(detail["job"]["fail_fast"], true);

    // So does the human summary of `hostline run`.
    CommandResult human = cluster.cli({"run", "--on", "role=web", "--batch", "1", "--fail-fast",
                                       "--", "sh", "-c", "test \"$HOSTLINE_AGENT\" != web-2"});
    EXPECT_EQ(human.exit_code, 1);
    EXPECT_NE(
        human.err.find("never ran (fail-fast after web-2 failed): web-3, web-4, web-5, web-6"),
        std::string::npos)
        << human.err;
}

TEST_F(Batches, ChatTakesTheOptionsAndItsSummaryNamesTheHostsThatNeverRan) {
    start(4);
    std::string answer = cluster.chat(
        "local:ops",
        "run --on role=web --batch 1 --fail-fast -- sh -c '[ \"$HOSTLINE_AGENT\" != web-2 ]'");
    EXPECT_NE(answer.find("job #1 partial"), std::string::npos) << answer;
    EXPECT_NE(answer.find("never ran (fail-fast after web-2 failed): web-3, web-4"),
              std::string::npos)
        << answer;
    EXPECT_NE(answer.find("web-3  skipped  (not started: fail-fast after web-2 failed)"),
              std::string::npos)
        << answer;
    EXPECT_EQ(cluster.chat("local:ops", "run --on role=web --batch-wait 1s -- true"),
              "error: --batch-wait needs --batch: a pause between what?\n");
}

TEST_F(Batches, BatchWaitHoldsEachSlotThatLongAfterItsRunEnded) {
    start(3);
    const std::string script = "date +%s.%N; sleep 0.2; date +%s.%N";
    auto began = std::chrono::steady_clock::now();
    int exit_code = -1;
    json doc = run({"--batch", "1", "--batch-wait", "2s"}, script, &exit_code);
    ASSERT_EQ(exit_code, 0) << doc.dump();
    EXPECT_EQ(doc["job"]["batch_wait_ms"], 2000);
    std::vector<Span> spans = spans_of(doc);
    ASSERT_EQ(spans.size(), 3u) << doc.dump();
    for (std::size_t i = 1; i < spans.size(); ++i) {
        double gap = spans[i].start - spans[i - 1].end;
        EXPECT_GE(gap, 2.0) << describe(spans);
        // The pause is a timer, not a poll that drifts: well under another full pause late.
        EXPECT_LT(gap, 3.5) << describe(spans);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - began, 4s);
}

TEST_F(Batches, AControllerRestartContinuesTheRolloutWhereItWas) {
    start(4);
    const std::string script = "date +%s.%N; sleep 2; date +%s.%N";
    json submitted = cluster.post_api(
        "/api/v1/jobs", {{"target", "role=web"}, {"argv", {"sh", "-c", script}}, {"batch", 1}});
    const long id = submitted["job"].get<long>();
    // Once the second host runs, the controller dies without a word.
    json doc = cluster.wait_job(id, [](const json& d) {
        for (const json& r : d["runs"])
            if (r["agent"] == "web-2" && r["state"] == "running") return true;
        return false;
    });
    cluster.kill_controller();
    cluster.start_controller();
    doc = cluster.wait_job(
        id,
        [](const json& d) {
            return d["job"]["state"] == "succeeded" || d["job"]["state"] == "failed";
        },
        60s);
    ASSERT_EQ(doc["job"]["state"], "succeeded") << doc.dump();
    // Still one host at a time across the restart, by the agents' clocks.
    json stored = cluster.cli_json({"job", std::to_string(id), "--output"});
    std::map<std::string, std::string> output;
    for (const json& chunk : stored["output"])
        output[chunk.value("agent", "")] += chunk.value("data", "");
    json runs = json::array();
    for (const auto& [agent, text] : output) runs.push_back({{"agent", agent}, {"output", text}});
    std::vector<Span> spans = spans_of(json{{"runs", runs}});
    ASSERT_EQ(spans.size(), 4u) << stored.dump();
    EXPECT_EQ(most_at_once(spans), 1u) << describe(spans);
}

}  // namespace
}  // namespace hostline::testing
