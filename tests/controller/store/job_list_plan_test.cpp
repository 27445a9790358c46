// The job list stays as fast with 100,000 jobs as with 100 (docs/performance.md) only while
// each filter walks an index in id order and stops after a page: a full scan, or a
// temporary b-tree that collects every match to sort it, grows with the table. These tests
// ask SQLite for the plan of the store's own SQL on a database the store migrated.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/store/job_list_query.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {
namespace {

// "SCAN jobs", "SCAN r": every row of a table. Not "SCAN (subquery-1)", the rows a bounded
// subquery produced.
bool scans_a_table(const std::string& line) {
    return line.rfind("SCAN", 0) == 0 && line.find("(subquery") == std::string::npos;
}

class JobListPlanTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "job-list-plan-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        const std::string path = (dir_ / "hostline.db").string();
        // Opening migrates it; nothing is written, so nothing is posted.
        auto store = Store::open(path, [](std::function<void()> done) { done(); });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store->reset();
        db_ = std::make_unique<SQLite::Database>(path);
    }
    void TearDown() override {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }

    // The plan's lines ("SEARCH j USING INDEX ...") for the store's SQL for this query.
    std::vector<std::string> plan(const JobQuery& query) {
        SQLite::Statement explain(*db_, "EXPLAIN QUERY PLAN " + detail::job_list_sql(query, "j.*"));
        std::vector<std::string> lines;
        while (explain.executeStep()) lines.push_back(explain.getColumn(3).getString());
        return lines;
    }

    // Every step searches an index (none scans a table), nothing is sorted afterwards, and
    // the index named is among them.
    void expect_walks(const JobQuery& query, const std::string& index) {
        const std::vector<std::string> lines = plan(query);
        std::string all;
        for (const std::string& line : lines) all += "\n  " + line;
        bool uses_index = false;
        for (const std::string& line : lines) {
            EXPECT_FALSE(scans_a_table(line)) << "a full scan:" << all;
            EXPECT_EQ(line.find("TEMP B-TREE"), std::string::npos) << "a sort:" << all;
            if (line.find(index) != std::string::npos) uses_index = true;
        }
        EXPECT_TRUE(uses_index) << "not " << index << ":" << all;
    }

    std::filesystem::path dir_;
    std::unique_ptr<SQLite::Database> db_;
};

TEST_F(JobListPlanTest, TheFirstAndLaterPagesWalkThePrimaryKey) {
    expect_walks({}, "INTEGER PRIMARY KEY");
    expect_walks({.before_id = 25'000}, "INTEGER PRIMARY KEY");
}

TEST_F(JobListPlanTest, OneStateWalksJobsByState) {
    expect_walks({.states = {JobState::failed}}, "jobs_by_state");
}

TEST_F(JobListPlanTest, SeveralStatesMergeOneWalkOfJobsByStateEachInsteadOfSorting) {
    const JobQuery query{.states = {JobState::failed, JobState::timed_out, JobState::cancelled}};
    expect_walks(query, "jobs_by_state");
    const std::vector<std::string> lines = plan(query);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "MERGE (UNION ALL)"), lines.end());
}

TEST_F(JobListPlanTest, TheCommandFilterWalksOneIndexForCatalogAndAdHocJobs) {
    expect_walks({.command = "deploy"}, "jobs_by_command_or_argv0");
    expect_walks({.command = "deploy", .before_id = 25'000, .limit = 50},
                 "jobs_by_command_or_argv0");
}

TEST_F(JobListPlanTest, TheRequesterFilterWalksJobsByRequester) {
    expect_walks({.requester = "local:alice"}, "jobs_by_requester");
}

TEST_F(JobListPlanTest, TheHostFilterWalksRunsByAgentWithTheOtherFiltersChecked) {
    expect_walks({.states = {JobState::failed}, .agent = "web-07"}, "runs_by_agent");
    expect_walks({.states = {JobState::failed, JobState::timed_out}, .agent = "web-07"},
                 "runs_by_agent");
    expect_walks({.agent = "web-07", .command = "deploy"}, "runs_by_agent");
}

// Jobs not yet final are few at any table size; a requester's or a host's jobs are not.
TEST_F(JobListPlanTest, OnlyActiveStatesWalkJobsByStateWhateverElseIsFiltered) {
    const std::vector<JobState> running{JobState::running};
    const std::vector<JobState> in_flight{JobState::queued, JobState::running,
                                          JobState::pending_approval};
    for (const auto& states : {running, in_flight}) {
        expect_walks({.states = states, .requester = "local:alice"}, "jobs_by_state");
        expect_walks({.states = states, .command = "deploy"}, "jobs_by_state");
        expect_walks({.states = states, .agent = "web-07"}, "jobs_by_state");
        expect_walks({.states = states,
                      .agent = "web-07",
                      .requester = "local:alice",
                      .command = "deploy",
                      .since_ms = 1,
                      .until_ms = 2,
                      .before_id = 9},
                     "jobs_by_state");
    }
    // A final state among them: its jobs are many, so the host's runs lead again.
    expect_walks({.states = {JobState::running, JobState::failed}, .agent = "web-07"},
                 "runs_by_agent");
}

// A time window is counted first, up to kShortTimeWindow jobs, by jobs_by_created; a short one
// is then read whole from that index and sorted (a bounded sort), a long one walked by id.
TEST_F(JobListPlanTest, AShortTimeWindowIsReadByJobsByCreatedAndALongOneByIdOrder) {
    for (const JobQuery& query :
         {JobQuery{.since_ms = 1}, JobQuery{.until_ms = 2}, JobQuery{.since_ms = 1, .until_ms = 2},
          JobQuery{.states = {JobState::failed, JobState::timed_out},
          .agent = "web-07",
          .requester = "local:alice",
          .command = "deploy",
          .since_ms = 1}}) {
        for (const std::string& sql :
             {detail::time_window_count_sql(query), detail::job_list_sql(query, "j.*", true)}) {
            std::string all;
            bool by_created = false;
            SQLite::Statement explain(*db_, "EXPLAIN QUERY PLAN " + sql);
            while (explain.executeStep()) {
                const std::string line = explain.getColumn(3).getString();
                all += "\n  " + line;
                EXPECT_FALSE(scans_a_table(line)) << sql << all;
                if (line.find("jobs_by_created") != std::string::npos) by_created = true;
            }
            EXPECT_TRUE(by_created) << sql << all;
        }
    }
    expect_walks({.since_ms = 1}, "INTEGER PRIMARY KEY");
    expect_walks({.states = {JobState::failed}, .until_ms = 2}, "jobs_by_state");
}

TEST_F(JobListPlanTest, FiltersTogetherStillWalkAnIndexInIdOrder) {
    expect_walks({.states = {JobState::failed, JobState::timed_out}, .requester = "local:alice"},
                 "jobs_by_");
    expect_walks({.states = {JobState::failed}, .command = "deploy"}, "jobs_by_");
    expect_walks({.requester = "local:alice", .command = "deploy", .since_ms = 1}, "jobs_by_");
}

}  // namespace
}  // namespace hostline::controller
