#include "cli/output/reports.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "cli/output/table.hpp"

namespace hostline::cli {
namespace {

nlohmann::json run(const std::string& agent, const std::string& state, nlohmann::json exit_code,
                   nlohmann::json signal, nlohmann::json duration_ms) {
    return {{"id", 1},
            {"job_id", 42},
            {"agent", agent},
            {"state", state},
            {"exit_code", exit_code},
            {"signal", signal},
            {"duration_ms", duration_ms},
            {"stdout_bytes", 2048},
            {"stderr_bytes", 0},
            {"stored_bytes", 2048},
            {"truncated", false},
            {"error", ""}};
}

class Reports : public ::testing::Test {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

TEST_F(Reports, RunSummaryShowsExitCodesSignalsDurationsAndCounts) {
    nlohmann::json runs = {run("web-01", "succeeded", 0, nullptr, 1200),
                           run("web-02", "failed", 3, nullptr, 61'000),
                           run("web-10", "timed_out", nullptr, 9, 30'000),
                           run("db-1", "lost", nullptr, nullptr, nullptr)};
    EXPECT_EQ(render_run_summary(runs),
              "HOST    STATE      EXIT     DURATION\n"
              "web-01  succeeded  0        1s200ms\n"
              "web-02  failed     3        1m1s\n"
              "web-10  timed_out  SIGKILL  30s\n"
              "db-1    lost       -        -\n"
              "1 succeeded, 1 failed, 1 timed out, 1 lost\n");
}

TEST_F(Reports, RunSummaryNamesTheHostsFailFastNeverStarted) {
    auto never = [](const std::string& agent) {
        auto r = run(agent, "skipped", nullptr, nullptr, nullptr);
        r["error"] = "not started: fail-fast after web-01 failed";
        return r;
    };
    auto offline = run("web-04", "skipped", nullptr, nullptr, nullptr);
    offline["error"] = "agent web-04 was offline";
    nlohmann::json runs = {run("web-01", "failed", 3, nullptr, 100), never("web-02"),
                           never("web-03"), offline};
    EXPECT_EQ(render_run_summary(runs),
              "HOST    STATE    EXIT  DURATION\n"
              "web-01  failed   3     100ms\n"
              "web-02  skipped  -     -\n"
              "web-03  skipped  -     -\n"
              "web-04  skipped  -     -\n"
              "1 failed, 3 skipped\n"
              "never ran (fail-fast after web-01 failed): web-02, web-03\n");
}

TEST_F(Reports, RunSummaryOfNoRunsSaysSo) {
    EXPECT_EQ(render_run_summary(nlohmann::json::array()), "no runs\n");
}

TEST_F(Reports, RunDetailsShowBytesAndErrors) {
    auto lost = run("web-02", "lost", nullptr, nullptr, nullptr);
    lost["error"] = "agent went offline";
    lost["truncated"] = true;
    EXPECT_EQ(render_run_details({run("web-01", "succeeded", 0, nullptr, 5), lost}, 0),
              "HOST    STATE      EXIT  DURATION  BYTES                ERROR\n"
              "web-01  succeeded  0     5ms       2.0 KiB              -\n"
              "web-02  lost       -     -         2.0 KiB (truncated)  agent went offline\n");
}

TEST_F(Reports, JobsTableQuotesAndCutsTheCommandToFit) {
    nlohmann::json jobs = {{{"id", 42},
                            {"state", "running"},
                            {"target", "web-*"},
                            {"argv", {"sh", "-c", "sleep 100; echo done with the long sleep"}},
                            {"requester", "local:alice"},
                            {"created_at_ms", 1'700'000'000'000}},
                           {{"id", 7},
                            {"state", "succeeded"},
                            {"target", "db-1"},
                            {"argv", {"uptime"}},
                            {"requester", "slack:U024BE7LH"},
                            {"created_at_ms", 1'699'999'000'000}}};
    const std::string wide = render_jobs_table(jobs, 0);
    EXPECT_EQ(wide,
              "ID   STATE      TARGET  COMMAND                                           "
              "REQUESTER        CREATED\n"
              "#42  running    web-*   sh -c 'sleep 100; echo done with the long sleep'  "
              "local:alice      2023-11-14 22:13:20\n"
              "#7   succeeded  db-1    uptime                                            "
              "slack:U024BE7LH  2023-11-14 21:56:40\n");

    const std::string narrow = render_jobs_table(jobs, 80);
    EXPECT_EQ(narrow,
              "ID   STATE      TARGET  COMMAND             REQUESTER        CREATED\n"
              "#42  running    web-*   sh -c 'sleep 100;…  local:alice      2023-11-14 22:13:20\n"
              "#7   succeeded  db-1    uptime              slack:U024BE7LH  2023-11-14 21:56:40\n");
}

TEST_F(Reports, AgentsTableShowsLabelsLoadAndLastSeen) {
    const std::int64_t now = 1'700'000'000'000;
    nlohmann::json agents = {{{"name", "web-01"},
                              {"online", true},
                              {"hostname", "web-01.example"},
                              {"version", "0.1.0"},
                              {"labels", {{"role", "web"}, {"env", "prod"}}},
                              {"facts", nlohmann::json::object()},
                              {"capacity", 4},
                              {"running", 1},
                              {"last_seen_ms", now - 3000}},
                             {{"name", "db-1"},
                              {"online", false},
                              {"version", "0.1.0"},
                              {"labels", nlohmann::json::object()},
                              {"capacity", 2},
                              {"running", 0},
                              {"last_seen_ms", nullptr}}};
    EXPECT_EQ(render_agents_table(agents, now, 0),
              "NAME    STATE    LABELS             VERSION  RUNNING/CAPACITY  LAST SEEN\n"
              "web-01  online   env=prod,role=web  0.1.0    1/4               3s ago\n"
              "db-1    offline  -                  0.1.0    0/2               never\n");
}

TEST(Table, PadsColumnsButNotTheLast) {
    Table table({"A", "LONGER"});
    table.add_row({"xyz", "1"});
    table.add_row({"q"});
    EXPECT_EQ(table.render(), "A    LONGER\nxyz  1\nq\n");
}

TEST(Table, ShrinksOnlyTheShrinkableColumnAndNotBelowItsMinimum) {
    Table table({"ID", "COMMAND", "WHO"});
    table.add_row({"1", "a-very-long-command-line", "me"});
    table.set_shrinkable(1, 8);
    EXPECT_EQ(table.render(20), "ID  COMMAND      WHO\n1   a-very-lon…  me\n");
    EXPECT_EQ(table.render(10), "ID  COMMAND   WHO\n1   a-very-…  me\n");
    EXPECT_EQ(table.render(1000),
              "ID  COMMAND                   WHO\n1   a-very-long-command-line  me\n");
}

}  // namespace
}  // namespace hostline::cli
