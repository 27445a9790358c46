#include "controller/http/json_views.hpp"

#include <gtest/gtest.h>

namespace hostline::controller::http {
namespace {

TEST(JsonViews, RunDurationIsNullUntilTheRunHasEnded) {
    RunRecord run{.id = 3, .job_id = 2, .agent = "web-01", .state = RunState::running};
    run.started_at_ms = 1000;
    auto view = run_json(run);
    EXPECT_TRUE(view["duration_ms"].is_null());
    EXPECT_TRUE(view["exit_code"].is_null());
    EXPECT_TRUE(view["signal"].is_null());

    run.ended_at_ms = 1750;
    run.exit_code = 0;
    view = run_json(run);
    EXPECT_EQ(view["duration_ms"], 750);
    EXPECT_EQ(view["exit_code"], 0);
    EXPECT_EQ(view["state"], "running");
}

TEST(JsonViews, JobViewHasExactlyTheDocumentedFields) {
    Job job{.id = 42, .requester = "token:admin", .source = "api", .target = "web-*"};
    job.argv = {"uptime"};
    job.env = {{"SECRET", "x"}};
    const auto view = job_json(job);
    std::vector<std::string> keys;
    for (const auto& [key, _] : view.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{
                        "id", "requester", "source", "target", "argv", "catalog_command", "user",
                        "group", "state", "cancel_requested", "timeout_ms", "batch", "batch_window",
                        "batch_wait_ms", "fail_fast", "created_at_ms", "finished_at_ms"}));
    EXPECT_TRUE(view["batch"].is_null()) << "no rollout";
    EXPECT_EQ(view["state"], "queued");
    EXPECT_EQ(view["user"], "");
    EXPECT_EQ(view["group"], "");
    EXPECT_EQ(view["catalog_command"], "");  // ad-hoc
}

TEST(JsonViews, JobViewNamesTheCatalogCommand) {
    Job job;
    job.command = "service-status";
    EXPECT_EQ(job_json(job)["catalog_command"], "service-status");
}

TEST(JsonViews, JobViewSaysWhoTheJobRunsAs) {
    Job job;
    job.run_as_user = "deploy";
    job.run_as_group = "www-data";
    const auto view = job_json(job);
    EXPECT_EQ(view["user"], "deploy");
    EXPECT_EQ(view["group"], "www-data");
}

TEST(JsonViews, ErrorCodesFollowTheStatus) {
    const auto code_of = [](unsigned status) {
        return nlohmann::json::parse(error_response(status, "why").body)["error"]["code"];
    };
    EXPECT_EQ(code_of(400), "bad_request");
    EXPECT_EQ(code_of(401), "unauthorized");
    EXPECT_EQ(code_of(404), "not_found");
    EXPECT_EQ(code_of(405), "method_not_allowed");
    EXPECT_EQ(code_of(409), "conflict");
    EXPECT_EQ(code_of(413), "too_large");
    EXPECT_EQ(code_of(500), "internal");
}

TEST(JsonViews, JobServiceErrorSayingNoJobIs404AndOthers500) {
    EXPECT_EQ(job_error_response(Error{"no job #9"}).status, 404u);
    EXPECT_EQ(job_error_response(Error{"database is locked"}).status, 500u);
}

TEST(JsonViews, EventLineIsOneLineWithInvalidUtf8Replaced) {
    JobEvent event{JobEvent::OutputAdded{OutputChunk{
        .run_id = 5, .agent = "db-1", .seq = 2, .stream = "stderr", .data = "a\xff\n"}}};
    const auto line = event_line(event);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    const auto parsed = nlohmann::json::parse(line);
    EXPECT_EQ(parsed["type"], "output");
    EXPECT_EQ(parsed["run_id"], 5);
    EXPECT_EQ(parsed["data"], "a\xEF\xBF\xBD\n");
}

}  // namespace
}  // namespace hostline::controller::http
