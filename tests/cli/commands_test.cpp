// The `hostline` command line end to end: parsing, exit statuses, what goes to stdout and
// stderr, and the --json documents, against a FakeController.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands/commands.hpp"
#include "fake_controller.hpp"

namespace hostline::cli {
namespace {

using nlohmann::json;
using testing::chunked_answer;
using testing::error_answer;
using testing::FakeController;
using testing::json_answer;
using testing::ndjson;

struct CliResult {
    int status = -1;
    std::string out;
    std::string err;
};

CliResult run_cli(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    CommandContext context(Console{out, err, 0});
    CLI::App app{"hostline", "hostline"};
    add_api_commands(app, context);
    std::vector<const char*> argv{"hostline"};
    for (const auto& arg : args) argv.push_back(arg.c_str());
    CliResult result;
    result.status = run_command_line(app, context, static_cast<int>(argv.size()), argv.data());
    result.out = out.str();
    result.err = err.str();
    return result;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool is_final(const std::string& state) {
    return state != "running" && state != "queued" && state != "pending_approval";
}

json job_doc(const std::string& state) {
    return {{"id", 42},
            {"requester", "local:alice"},
            {"source", "cli"},
            {"target", "web-*"},
            {"argv", {"uptime"}},
            {"state", state},
            {"cancel_requested", false},
            {"timeout_ms", 600000},
            {"created_at_ms", 1'700'000'000'000},
            {"finished_at_ms", is_final(state) ? json(1'700'000'003'000) : json(nullptr)}};
}

json run_doc(int id, const std::string& agent, const std::string& state, json exit_code = nullptr,
             json signal = nullptr) {
    const bool ended = state != "running" && state != "queued" && state != "dispatched";
    return {{"id", id},
            {"job_id", 42},
            {"agent", agent},
            {"state", state},
            {"exit_code", exit_code},
            {"signal", signal},
            {"started_at_ms", 1'700'000'000'100},
            {"ended_at_ms", ended ? json(1'700'000'001'600) : json(nullptr)},
            {"duration_ms", ended ? json(1500) : json(nullptr)},
            {"stdout_bytes", 10},
            {"stderr_bytes", 0},
            {"stored_bytes", 10},
            {"truncated", false},
            {"error", ""}};
}

json output_event(int run_id, const std::string& agent, int seq, const std::string& stream,
                  const std::string& data) {
    return {{"type", "output"}, {"run_id", run_id}, {"agent", agent},
            {"seq", seq},       {"stream", stream}, {"data", data}};
}

json output_item(int run_id, const std::string& agent, int seq, const std::string& stream,
                 const std::string& data) {
    json item = output_event(run_id, agent, seq, stream, data);
    item.erase("type");
    return item;
}

class Commands : public ::testing::Test {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        ::unsetenv("HOSTLINE_CONTROLLER");
        ::unsetenv("HOSTLINE_TOKEN_FILE");
        token_file_ = std::filesystem::temp_directory_path() /
                      ("hostline-cli-test-token-" + std::to_string(::getpid()));
        std::ofstream(token_file_) << "  s3cret\n";
    }
    void TearDown() override { std::filesystem::remove(token_file_); }

    // args after the connection options.
    CliResult hostline(std::vector<std::string> args) {
        args.insert(args.begin(), {"--controller", server_.url(), "--token-file", token_file_});
        return run_cli(args);
    }

    void submit_answers(const std::vector<std::string>& matched,
                        const std::vector<std::string>& offline) {
        server_.on("POST", "/api/v1/jobs",
                   json_answer(201, {{"job", 42}, {"matched", matched}, {"offline", offline}}));
    }

    FakeController server_;
    std::string token_file_;
};

// ---- the command line itself ----

TEST_F(Commands, VersionPrintsTheVersion) {
    auto result = run_cli({"--version"});
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.out, "hostline " HOSTLINE_VERSION "\n");
}

TEST_F(Commands, MissingSubcommandIsAUsageError) {
    auto result = run_cli({});
    EXPECT_EQ(result.status, 2);
    EXPECT_EQ(result.err, "A subcommand is required\nRun with --help for more information.\n");
    EXPECT_EQ(result.out, "");
}

TEST_F(Commands, UnknownOptionIsAUsageError) {
    auto result = hostline({"jobs", "--bogus"});
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(contains(result.err, "--bogus")) << result.err;
    EXPECT_TRUE(contains(result.err, "Run with --help for more information.")) << result.err;
}

TEST_F(Commands, BadJobIdIsAUsageError) {
    auto result = hostline({"job", "forty-two"});
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(contains(result.err, "job id 'forty-two' is not a number like 42 or #42"))
        << result.err;
    EXPECT_TRUE(server_.requests().empty());
}

TEST_F(Commands, BadTimeoutIsAUsageError) {
    auto result = hostline({"run", "--on", "web-*", "--timeout", "30", "--", "uptime"});
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(contains(result.err, "--timeout: duration '30': no unit")) << result.err;
}

TEST_F(Commands, BadEnvIsAUsageError) {
    auto result = hostline({"run", "--on", "web-*", "--env", "NOVALUE", "--", "env"});
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(contains(result.err, "'NOVALUE' is not K=V")) << result.err;
}

TEST_F(Commands, RunWithoutACommandIsAUsageError) {
    auto result = hostline({"run", "--on", "web-*"});
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(contains(result.err, "argv is required")) << result.err;
}

TEST_F(Commands, MissingTokenFileNamesBothWaysToSetIt) {
    auto result = run_cli({"--controller", server_.url(), "agents"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err,
              "hostline: no API token: pass --token-file PATH or set HOSTLINE_TOKEN_FILE to a "
              "file holding the token\n");
}

TEST_F(Commands, UnreadableTokenFileIsNamed) {
    auto result =
        run_cli({"--controller", server_.url(), "--token-file", "/nonexistent/t", "agents"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err,
              "hostline: cannot read the token file /nonexistent/t: No such file or directory\n");
}

TEST_F(Commands, AnEmptyTokenFileIsAnError) {
    std::ofstream(token_file_) << " \n\t\n";
    auto result = hostline({"agents"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "hostline: the token file " + token_file_ + " is empty\n");
    EXPECT_TRUE(server_.requests().empty());
}

TEST_F(Commands, ControllerAndTokenFileComeFromTheEnvironment) {
    server_.on("GET", "/api/v1/agents", json_answer(200, {{"agents", json::array()}}));
    ::setenv("HOSTLINE_CONTROLLER", server_.url().c_str(), 1);
    ::setenv("HOSTLINE_TOKEN_FILE", token_file_.c_str(), 1);
    auto result = run_cli({"agents", "--json"});
    ::unsetenv("HOSTLINE_CONTROLLER");
    ::unsetenv("HOSTLINE_TOKEN_FILE");
    EXPECT_EQ(result.status, 0) << result.err;
    ASSERT_EQ(server_.requests().size(), 1u);
    EXPECT_EQ(server_.requests()[0].authorization, "Bearer s3cret");
}

TEST_F(Commands, ConnectionOptionsAreAcceptedAfterTheSubcommand) {
    server_.on("GET", "/api/v1/agents", json_answer(200, {{"agents", json::array()}}));
    auto result =
        run_cli({"agents", "--json", "--controller", server_.url(), "--token-file", token_file_});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(json::parse(result.out), json({{"agents", json::array()}}));
}

TEST_F(Commands, HttpsControllerIsRefusedClearly) {
    auto result =
        run_cli({"--controller", "https://ops.example.com", "--token-file", token_file_, "agents"});
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.err, "hostline: https is not supported yet;")) << result.err;
}

TEST_F(Commands, ApiErrorPrintsTheMessageAndExitsOne) {
    server_.on("GET", "/api/v1/jobs/99", error_answer(404, "not_found", "job #99 not found"));
    auto result = hostline({"job", "99"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "hostline: job #99 not found\n");
    EXPECT_EQ(result.out, "");
}

TEST_F(Commands, UnauthorizedPointsAtTheTokenFile) {
    server_.on("GET", "/api/v1/agents", error_answer(401, "unauthorized", "unknown token"));
    auto result = hostline({"agents"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "hostline: unknown token (the token was read from " + token_file_ +
                              "; set the token file with --token-file or HOSTLINE_TOKEN_FILE)\n");
}

// ---- jobs, job, agents, cancel ----

TEST_F(Commands, JobsJsonPrintsTheApiDocumentAndPassesTheFilters) {
    json document = {{"jobs", {job_doc("running")}}, {"next_before", nullptr}};
    server_.on("GET", "/api/v1/jobs", json_answer(200, document));
    auto result =
        hostline({"jobs", "--state", "running", "--agent", "web-01", "--limit", "5", "--json"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(json::parse(result.out), document);
    ASSERT_EQ(server_.requests().size(), 1u);
    EXPECT_EQ(server_.requests()[0].target, "/api/v1/jobs?state=running&agent=web-01&limit=5");
}

TEST_F(Commands, JobsPrintsATableAndHowToSeeOlderJobs) {
    server_.on("GET", "/api/v1/jobs",
               json_answer(200, {{"jobs", {job_doc("succeeded")}}, {"next_before", 42}}));
    auto result = hostline({"jobs"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out,
              "ID   STATE      TARGET  COMMAND  REQUESTER    CREATED\n"
              "#42  succeeded  web-*   uptime   local:alice  2023-11-14 22:13:20\n");
    EXPECT_EQ(result.err, "older jobs: hostline jobs --before 42\n");
}

TEST_F(Commands, JobsLimitMustBePositive) {
    auto result = hostline({"jobs", "--limit", "0"});
    EXPECT_EQ(result.status, 2);
}

TEST_F(Commands, JobShowsTheHeaderRunsAndStoredOutput) {
    server_.on(
        "GET", "/api/v1/jobs/42",
        json_answer(
            200, {{"job", job_doc("failed")},
                  {"runs",
                   {run_doc(1, "web-01", "succeeded", 0), run_doc(2, "web-002", "failed", 3)}}}));
    server_.on("GET", "/api/v1/jobs/42/output",
               json_answer(200, {{"output",
                                  {output_item(2, "web-002", 1, "stderr", "boom\n"),
                                   output_item(1, "web-01", 2, "stdout", "part two\n"),
                                   output_item(1, "web-01", 1, "stdout", "part one, "),
                                   output_item(2, "web-002", 2, "stdout", "no newline")}}}));
    auto result = hostline({"job", "#42", "--output"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out,
              "job #42  failed\n"
              "  requester  local:alice\n"
              "  source     cli\n"
              "  target     web-*\n"
              "  command    uptime\n"
              "  timeout    10m\n"
              "  created    2023-11-14 22:13:20\n"
              "  finished   2023-11-14 22:13:23\n"
              "\n"
              "HOST     STATE      EXIT  DURATION  BYTES  ERROR\n"
              "web-01   succeeded  0     1s500ms   10 B   -\n"
              "web-002  failed     3     1s500ms   10 B   -\n"
              "\n"
              "web-01  | part one, part two\n"
              "web-002 ! boom\n"
              "web-002 | no newline\n");
    ASSERT_EQ(server_.requests().size(), 2u);
    EXPECT_EQ(server_.requests()[0].target, "/api/v1/jobs/42");
}

TEST_F(Commands, JobHeaderShowsWhoTheJobRunsAs) {
    json both = job_doc("succeeded");
    both["user"] = "deploy";
    both["group"] = "www-data";
    json user_only = both;
    user_only["group"] = "";
    json neither = job_doc("succeeded");
    server_.on("GET", "/api/v1/jobs/42",
               std::vector{json_answer(200, {{"job", both}, {"runs", json::array()}}),
                           json_answer(200, {{"job", user_only}, {"runs", json::array()}}),
                           json_answer(200, {{"job", neither}, {"runs", json::array()}})});

    auto result = hostline({"job", "42"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(contains(result.out,
                         "  command    uptime\n"
                         "  run as     deploy:www-data\n"
                         "  timeout    10m\n"))
        << result.out;
    result = hostline({"job", "42"});
    EXPECT_TRUE(contains(result.out, "  run as     deploy\n")) << result.out;
    result = hostline({"job", "42"});
    EXPECT_FALSE(contains(result.out, "run as")) << result.out;
}

TEST_F(Commands, JobHeaderNamesTheCatalogCommandButNotForAdHocRuns) {
    json catalog = job_doc("succeeded");
    catalog["catalog_command"] = "service-status";
    json adhoc = job_doc("succeeded");
    adhoc["catalog_command"] = "";
    server_.on("GET", "/api/v1/jobs/42",
               std::vector{json_answer(200, {{"job", catalog}, {"runs", json::array()}}),
                           json_answer(200, {{"job", adhoc}, {"runs", json::array()}})});

    auto result = hostline({"job", "42"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(contains(result.out,
                         "  command    uptime\n"
                         "  catalog    service-status\n"))
        << result.out;
    result = hostline({"job", "42"});
    EXPECT_FALSE(contains(result.out, "catalog")) << result.out;
}

TEST_F(Commands, JobJsonAddsTheOutputWhenAsked) {
    json document = {{"job", job_doc("succeeded")},
                     {"runs", {run_doc(1, "web-01", "succeeded", 0)}}};
    json output = {output_item(1, "web-01", 1, "stdout", "hi\n")};
    server_.on("GET", "/api/v1/jobs/42", json_answer(200, document));
    server_.on("GET", "/api/v1/jobs/42/output", json_answer(200, {{"output", output}}));

    auto plain = hostline({"job", "42", "--json"});
    EXPECT_EQ(plain.status, 0) << plain.err;
    EXPECT_EQ(json::parse(plain.out), document);

    auto with_output = hostline({"job", "42", "--json", "--output"});
    EXPECT_EQ(with_output.status, 0) << with_output.err;
    json expected = document;
    expected["output"] = output;
    EXPECT_EQ(json::parse(with_output.out), expected);
}

TEST_F(Commands, AgentsPrintsATable) {
    server_.on("GET", "/api/v1/agents",
               json_answer(200, {{"agents",
                                  {{{"name", "web-01"},
                                    {"online", true},
                                    {"version", "0.1.0"},
                                    {"labels", {{"role", "web"}}},
                                    {"capacity", 4},
                                    {"running", 0},
                                    {"last_seen_ms", 0}}}}}));
    auto result = hostline({"agents"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out,
              "NAME    STATE   LABELS    VERSION  RUNNING/CAPACITY  LAST SEEN\n"
              "web-01  online  role=web  0.1.0    0/4               never\n");
}

TEST_F(Commands, CancelSaysItIsCancelling) {
    server_.on("POST", "/api/v1/jobs/42/cancel",
               json_answer(202, {{"job", 42}, {"state", "cancelling"}}));
    auto result = hostline({"cancel", "#42"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "cancelling job #42\n");
    ASSERT_EQ(server_.requests().size(), 1u);
    EXPECT_EQ(server_.requests()[0].body, "");

    auto as_json = hostline({"cancel", "42", "--json"});
    EXPECT_EQ(as_json.status, 0) << as_json.err;
    EXPECT_EQ(json::parse(as_json.out), json({{"job", 42}, {"state", "cancelling"}}));
}

// ---- run ----

TEST_F(Commands, RunSubmitsStreamsPerHostAndSummarizes) {
    submit_answers({"web-01", "web-002"}, {"web-03"});
    const std::string events = ndjson({
        {{"type", "job"}, {"job", job_doc("running")}},
        {{"type", "run"}, {"run", run_doc(1, "web-01", "running")}},
        {{"type", "run"}, {"run", run_doc(2, "web-002", "running")}},
        output_event(1, "web-01", 1, "stdout", "hel"),
        output_event(2, "web-002", 1, "stdout", "hi there\n"),
        output_event(1, "web-01", 2, "stdout", "lo\n"),
        output_event(1, "web-01", 2, "stdout", "lo\n"),  // sent twice: printed once
        output_event(1, "web-01", 3, "stderr", "warn\n"),
        output_event(2, "web-002", 2, "stdout", "no newline"),
        {{"type", "run"}, {"run", run_doc(2, "web-002", "succeeded", 0)}},
        {{"type", "run"}, {"run", run_doc(1, "web-01", "succeeded", 0)}},
        {{"type", "job"}, {"job", job_doc("succeeded")}},
    });
    // Lines cut across HTTP chunks.
    std::vector<std::string> chunks;
    for (std::size_t at = 0; at < events.size(); at += 50) chunks.push_back(events.substr(at, 50));
    server_.on("GET", "/api/v1/jobs/42/events", chunked_answer(chunks));

    auto result = hostline({"run", "--on", "web-*", "--timeout", "30s", "--env", "A=1", "--env",
                            "B=x=y", "--cwd", "/tmp", "--", "sh", "-c", "echo hi"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out,
              "web-002 | hi there\n"
              "web-01  | hello\n"
              "web-01  ! warn\n"
              "web-002 | no newline\n");
    EXPECT_EQ(result.err,
              "job #42 on 2 hosts: web-01, web-002\n"
              "offline (skipped): web-03\n"
              "HOST     STATE      EXIT  DURATION\n"
              "web-01   succeeded  0     1s500ms\n"
              "web-002  succeeded  0     1s500ms\n"
              "2 succeeded\n");
    auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(json::parse(requests[0].body), json({{"target", "web-*"},
                                                   {"argv", {"sh", "-c", "echo hi"}},
                                                   {"timeout_ms", 30000},
                                                   {"env", {{"A", "1"}, {"B", "x=y"}}},
                                                   {"cwd", "/tmp"}}));
    EXPECT_EQ(requests[1].target, "/api/v1/jobs/42/events");
}

TEST_F(Commands, RunSendsTheUserAndGroupToRunAs) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({
                   {{"type", "run"}, {"run", run_doc(1, "web-01", "succeeded", 0)}},
                   {{"type", "job"}, {"job", job_doc("succeeded")}},
               })}));
    auto result =
        hostline({"run", "--on", "web-01", "--user", "deploy", "--group", "www-data", "--", "id"});
    EXPECT_EQ(result.status, 0) << result.err;
    auto requests = server_.requests();
    ASSERT_FALSE(requests.empty());
    EXPECT_EQ(
        json::parse(requests[0].body),
        json({{"target", "web-01"}, {"argv", {"id"}}, {"user", "deploy"}, {"group", "www-data"}}));
}

// CLI11 reads "[ ... ]" as a list and strips the brackets; the words after -- must reach the
// API as typed (a shell test, a JSON argument, a word that is only "--").
TEST_F(Commands, RunSendsTheWordsAfterTheDashesExactlyAsTyped) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({
                   {{"type", "run"}, {"run", run_doc(1, "web-01", "succeeded", 0)}},
                   {{"type", "job"}, {"job", job_doc("succeeded")}},
               })}));
    const std::vector<std::string> words{
        "sh", "-c", "[ \"$X\" != y ] && echo '{a,b}'", "[a,b]", "--", "--on", "x"};
    std::vector<std::string> line{"run", "--on", "web-01", "--"};
    line.insert(line.end(), words.begin(), words.end());
    auto result = hostline(line);
    EXPECT_EQ(result.status, 0) << result.err;
    auto requests = server_.requests();
    ASSERT_FALSE(requests.empty());
    EXPECT_EQ(json::parse(requests[0].body)["argv"], json(words));
}

TEST_F(Commands, RunExitsOneUnlessEveryRunSucceeded) {
    submit_answers({"web-01", "web-02"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({
                   {{"type", "job"}, {"job", job_doc("running")}},
                   {{"type", "run"}, {"run", run_doc(1, "web-01", "succeeded", 0)}},
                   {{"type", "run"}, {"run", run_doc(2, "web-02", "timed_out", nullptr, 9)}},
                   {{"type", "job"}, {"job", job_doc("partial")}},
               })}));
    auto result = hostline({"run", "--on", "web-*", "--", "uptime"});
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.err, "web-02  timed_out  SIGKILL  1s500ms\n")) << result.err;
    EXPECT_TRUE(contains(result.err, "1 succeeded, 1 timed out\n")) << result.err;
}

TEST_F(Commands, RunJsonPrintsOneDocumentWithEachRunsOutput) {
    submit_answers({"web-01"}, {"web-03"});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({
                   {{"type", "job"}, {"job", job_doc("running")}},
                   {{"type", "run"}, {"run", run_doc(1, "web-01", "running")}},
                   output_event(1, "web-01", 2, "stderr", "oops\n"),
                   output_event(1, "web-01", 1, "stdout", "hello\n"),
                   {{"type", "run"}, {"run", run_doc(1, "web-01", "failed", 1)}},
                   {{"type", "job"}, {"job", job_doc("failed")}},
               })}));
    auto result = hostline({"run", "--on", "web-01", "--json", "--", "uptime"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "");
    json document = json::parse(result.out);  // one document and nothing else
    EXPECT_EQ(document["job"], job_doc("failed"));
    ASSERT_EQ(document["runs"].size(), 1u);
    json expected_run = run_doc(1, "web-01", "failed", 1);
    expected_run["output"] = "hello\noops\n";
    EXPECT_EQ(document["runs"][0], expected_run);
    EXPECT_EQ(document["matched"], json({"web-01"}));
    EXPECT_EQ(document["offline"], json({"web-03"}));
}

TEST_F(Commands, RunFallsBackToPollingWhenTheStreamBreaks) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({{{"type", "job"}, {"job", job_doc("running")}},
                                       output_event(1, "web-01", 1, "stdout", "one\n")})},
                              /*complete=*/false));
    server_.on("GET", "/api/v1/jobs/42",
               std::vector<testing::CannedAnswer>{
                   json_answer(200, {{"job", job_doc("running")},
                                     {"runs", {run_doc(1, "web-01", "running")}}}),
                   json_answer(200, {{"job", job_doc("succeeded")},
                                     {"runs", {run_doc(1, "web-01", "succeeded", 0)}}})});
    server_.on("GET", "/api/v1/jobs/42/output",
               json_answer(200, {{"output",
                                  {output_item(1, "web-01", 1, "stdout", "one\n"),
                                   output_item(1, "web-01", 2, "stdout", "two\nthr"),
                                   output_item(1, "web-01", 3, "stdout", "ee")}}}));
    auto result = hostline({"run", "--on", "web-01", "--", "uptime"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "web-01 | one\nweb-01 | two\nweb-01 | three\n");
    EXPECT_TRUE(contains(result.err, "hostline: the event stream ended before the job did"))
        << result.err;
    EXPECT_TRUE(contains(result.err, "1 succeeded\n")) << result.err;
}

TEST_F(Commands, RunOnAJobThatAlreadyEndedReadsTheDocuments) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({{{"type", "job"}, {"job", job_doc("succeeded")}}})}, false,
                              {}, /*hold_open=*/true));
    server_.on("GET", "/api/v1/jobs/42",
               json_answer(200, {{"job", job_doc("succeeded")},
                                 {"runs", {run_doc(1, "web-01", "succeeded", 0)}}}));
    server_.on("GET", "/api/v1/jobs/42/output",
               json_answer(200, {{"output", {output_item(1, "web-01", 1, "stdout", "done\n")}}}));
    auto result = hostline({"run", "--on", "web-01", "--", "uptime"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "web-01 | done\n");
    EXPECT_FALSE(contains(result.err, "event stream")) << result.err;
}

TEST_F(Commands, RunOfAFinishedJobTakesEverythingFromTheSnapshot) {
    submit_answers({"web-01"}, {});
    // The controller's snapshot order: runs, stored output, then the job.
    server_.on(
        "GET", "/api/v1/jobs/42/events",
        chunked_answer({ndjson({{{"type", "run"}, {"run", run_doc(1, "web-01", "failed", 2)}},
                                output_event(1, "web-01", 1, "stderr", "no such file\n"),
                                {{"type", "job"}, {"job", job_doc("failed")}}})}));
    auto result = hostline({"run", "--on", "web-01", "--", "cat", "/nope"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.out, "web-01 ! no such file\n");
    EXPECT_TRUE(contains(result.err, "web-01  failed  2     1s500ms\n1 failed\n")) << result.err;
    EXPECT_EQ(server_.requests().size(), 2u);  // the POST and the events: nothing else
}

TEST_F(Commands, RunFallsBackToPollingAfterAnErrorEvent) {
    submit_answers({"web-01"}, {});
    server_.on(
        "GET", "/api/v1/jobs/42/events",
        chunked_answer({ndjson(
            {{{"type", "job"}, {"job", job_doc("running")}},
             {{"type", "error"},
              {"error",
               {{"code", "slow_consumer"}, {"message", "the client reads too slowly"}}}}})}));
    server_.on("GET", "/api/v1/jobs/42",
               json_answer(200, {{"job", job_doc("succeeded")},
                                 {"runs", {run_doc(1, "web-01", "succeeded", 0)}}}));
    server_.on("GET", "/api/v1/jobs/42/output",
               json_answer(200, {{"output", {output_item(1, "web-01", 1, "stdout", "ok\n")}}}));
    auto result = hostline({"run", "--on", "web-01", "--", "true"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "web-01 | ok\n");
    EXPECT_TRUE(contains(result.err,
                         "hostline: the event stream ended before the job did (the controller "
                         "said: the client reads too slowly); checking job #42 every 500ms\n"))
        << result.err;
}

TEST_F(Commands, RunReportsARefusedEventStreamWithoutPolling) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events", error_answer(404, "not_found", "no job #42"));
    auto result = hostline({"run", "--on", "web-01", "--", "true"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "job #42 on 1 host: web-01\nhostline: no job #42\n");
    EXPECT_EQ(server_.requests().size(), 2u);
}

TEST_F(Commands, RunSaysWhenTheJobWaitsForApproval) {
    submit_answers({"db-1"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({{{"type", "job"}, {"job", job_doc("pending_approval")}},
                                       {{"type", "job"}, {"job", job_doc("denied")}}})}));
    auto result = hostline({"run", "--on", "db-1", "--", "reboot"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err,
              "job #42 on 1 host: db-1\n"
              "job #42 is waiting for approval\n"
              "job #42 denied with no runs\n");
}

TEST_F(Commands, CtrlCWhileStreamingDetaches) {
    submit_answers({"web-01"}, {});
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer({ndjson({{{"type", "job"}, {"job", job_doc("running")}},
                                       output_event(1, "web-01", 1, "stdout", "working\n")})},
                              false, {}, /*hold_open=*/true));
    std::thread ctrl_c([&] {
        ASSERT_TRUE(server_.wait_for("/api/v1/jobs/42/events", std::chrono::seconds(10)));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ::kill(::getpid(), SIGINT);
    });
    auto result = hostline({"run", "--on", "web-01", "--", "sleep", "600"});
    ctrl_c.join();
    EXPECT_EQ(result.status, 130);
    EXPECT_EQ(result.out, "web-01 | working\n");
    EXPECT_TRUE(contains(result.err,
                         "detached; job #42 keeps running — hostline job 42, hostline cancel 42\n"))
        << result.err;
}

// ---- approvals ----

json approval_doc(const std::string& state, int approvals, const std::string& reason = "") {
    return {{"id", 42},
            {"job", 42},
            {"state", state},
            {"requester", "irc:alice"},
            {"source", "irc:#ops"},
            {"target", "role=web"},
            {"argv", {"systemctl", "restart", "nginx"}},
            {"hosts", {"web-01", "web-02"}},
            {"group", "ops"},
            {"count", 2},
            {"approvals", approvals},
            {"reason", reason},
            {"created_at_ms", 1'700'000'000'000},
            {"expires_at_ms", 1'700'001'800'000},
            {"decided_at_ms", 0},
            {"votes", json::array()}};
}

TEST_F(Commands, ApprovalsListsPendingOnesWithHostsAndCommand) {
    server_.on("GET", "/api/v1/approvals",
               json_answer(200, {{"approvals", {approval_doc("pending", 1)}}}));
    auto result = hostline({"approvals"});
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "#42")) << result.out;
    EXPECT_TRUE(contains(result.out, "irc:alice")) << result.out;
    EXPECT_TRUE(contains(result.out, "1/2")) << result.out;
    EXPECT_TRUE(contains(result.out, "web-01,web-02")) << result.out;
    EXPECT_TRUE(contains(result.out, "systemctl restart nginx")) << result.out;

    auto denied = hostline({"approvals", "list", "--state", "denied"});
    ASSERT_EQ(denied.status, 0) << denied.err;
    EXPECT_EQ(server_.requests().back().target, "/api/v1/approvals?state=denied");
    ASSERT_EQ(hostline({"approvals", "list", "--state", "decided"}).status, 0);
    EXPECT_EQ(server_.requests().back().target, "/api/v1/approvals?state=decided");
    EXPECT_EQ(hostline({"approvals", "list", "--state", "maybe"}).status, 2);
}

TEST_F(Commands, ApprovalsApproveAndDenyPostTheDecision) {
    server_.on("POST", "/api/v1/approvals/42/approve",
               json_answer(200, {{"approval", approval_doc("pending", 1)}}));
    auto approved = hostline({"approvals", "approve", "#42"});
    ASSERT_EQ(approved.status, 0) << approved.err;
    EXPECT_EQ(approved.out, "job #42: your approval is recorded (1 of 2)\n");

    server_.on("POST", "/api/v1/approvals/42/deny",
               json_answer(200, {{"approval",
                                  approval_doc("denied", 0, "denied by token:admin: not today")}}));
    auto denied = hostline({"approvals", "deny", "42", "--reason", "not today"});
    ASSERT_EQ(denied.status, 0) << denied.err;
    EXPECT_EQ(denied.out, "job #42 denied: denied by token:admin: not today\n");
    EXPECT_EQ(json::parse(server_.requests().back().body), json({{"reason", "not today"}}));

    EXPECT_EQ(hostline({"approvals", "deny", "42"}).status, 2) << "--reason is required";
}

TEST_F(Commands, ARefusedApprovalPrintsTheControllersReason) {
    server_.on("POST", "/api/v1/approvals/42/approve",
               error_answer(403, "forbidden",
                            "you asked for job #42: the requester never counts; someone else in "
                            "group 'ops' must approve it"));
    auto result = hostline({"approvals", "approve", "42"});
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.err, "the requester never counts")) << result.err;
}

// ---- schedules ----

json schedule_doc(bool paused) {
    return {{"id", 1},
            {"name", "nightly"},
            {"cron", "30 2 * * *"},
            {"zone", "Europe/Berlin"},
            {"owner", "irc:alice"},
            {"channel", "irc:#ops"},
            {"command", {"backup", "--on", "role=db"}},
            {"paused", paused},
            {"run_missed", false},
            {"created_at_ms", 1'700'000'000'000},
            {"last_fired_at_ms", 0},
            {"last_job", 0},
            {"next_firing_ms", paused ? 0 : 1'700'100'000'000}};
}

TEST_F(Commands, SchedulesListShowAndAdd) {
    server_.on("GET", "/api/v1/schedules",
               json_answer(200, {{"schedules", {schedule_doc(false)}}}));
    auto list = hostline({"schedules"});
    ASSERT_EQ(list.status, 0) << list.err;
    EXPECT_TRUE(contains(list.out, "nightly")) << list.out;
    EXPECT_TRUE(contains(list.out, "30 2 * * *")) << list.out;
    EXPECT_TRUE(contains(list.out, "Europe/Berlin")) << list.out;
    EXPECT_TRUE(contains(list.out, "backup --on role=db")) << list.out;

    server_.on("GET", "/api/v1/schedules/nightly",
               json_answer(200, {{"schedule", schedule_doc(false)},
                                 {"next_ms", {1'700'100'000'000, 1'700'186'400'000}}}));
    auto show = hostline({"schedules", "show", "nightly"});
    ASSERT_EQ(show.status, 0) << show.err;
    EXPECT_TRUE(contains(show.out, "schedule nightly (active)")) << show.out;
    EXPECT_TRUE(contains(show.out, "reports: irc:#ops")) << show.out;
    EXPECT_TRUE(contains(show.out, "next:")) << show.out;

    server_.on("POST", "/api/v1/schedules", json_answer(201, {{"schedule", schedule_doc(false)}}));
    auto add = hostline({"schedules", "add", "30 2 * * *", "--tz", "Europe/Berlin", "--name",
                         "nightly", "--channel", "irc:#ops", "--", "backup", "--on", "role=db"});
    ASSERT_EQ(add.status, 0) << add.err;
    EXPECT_TRUE(contains(add.out, "added schedule nightly; first run ")) << add.out;
    EXPECT_EQ(json::parse(server_.requests().back().body),
              json({{"cron", "30 2 * * *"},
                    {"command", {"backup", "--on", "role=db"}},
                    {"run_missed", false},
                    {"zone", "Europe/Berlin"},
                    {"name", "nightly"},
                    {"channel", "irc:#ops"}}));
    EXPECT_EQ(hostline({"schedules", "add", "30 2 * * *"}).status, 2) << "a command is required";
}

TEST_F(Commands, SchedulesPauseResumeAndRemove) {
    server_.on("POST", "/api/v1/schedules/nightly/pause",
               json_answer(200, {{"schedule", schedule_doc(true)}}));
    auto paused = hostline({"schedules", "pause", "nightly"});
    ASSERT_EQ(paused.status, 0) << paused.err;
    EXPECT_EQ(paused.out, "paused schedule nightly\n");
    server_.on("POST", "/api/v1/schedules/nightly/resume",
               json_answer(200, {{"schedule", schedule_doc(false)}}));
    EXPECT_EQ(hostline({"schedules", "resume", "nightly"}).out, "resumed schedule nightly\n");
    server_.on("DELETE", "/api/v1/schedules/nightly",
               json_answer(200, {{"schedule", schedule_doc(false)}}));
    EXPECT_EQ(hostline({"schedules", "remove", "nightly"}).out, "removed schedule nightly\n");
    server_.on("POST", "/api/v1/schedules/gone/pause",
               error_answer(404, "not_found", "no schedule named 'gone'"));
    auto missing = hostline({"schedules", "pause", "gone"});
    EXPECT_EQ(missing.status, 1);
    EXPECT_TRUE(contains(missing.err, "no schedule named 'gone'")) << missing.err;
}

// ---- audit and tokens ----

json audit_event(int id, const std::string& kind) {
    return {{"id", id},
            {"at_ms", 1'700'000'000'000 + id},
            {"kind", kind},
            {"actor", "irc:alice"},
            {"subject", "job:" + std::to_string(id)},
            {"detail", {{"target", "web-*"}}},
            {"prev_hash", std::string(64, '0')},
            {"hash", std::string(64, 'a')}};
}

TEST_F(Commands, AuditVerifyNamesTheBrokenRowAndExits1) {
    server_.on("GET", "/api/v1/audit/verify",
               json_answer(200, {{"ok", false},
                                 {"rows", 17},
                                 {"broken_row", 17},
                                 {"problem", "row 17: hash does not match its contents"}}));
    auto result = hostline({"audit", "verify"});
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.out, "the audit chain is broken: row 17: hash does not match its contents\n");
}

TEST_F(Commands, AuditVerifyOfAWholeChainExits0) {
    server_.on(
        "GET", "/api/v1/audit/verify",
        json_answer(200,
                    {{"ok", true}, {"rows", 3}, {"broken_row", nullptr}, {"problem", nullptr}}));
    auto result = hostline({"audit", "verify"});
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.out, "the audit chain is intact: 3 row(s) verified\n");
}

TEST_F(Commands, AuditExportPagesForwardAndWritesOneJsonLinePerEvent) {
    server_.on(
        "GET", "/api/v1/audit",
        std::vector{
            json_answer(
                200, {{"events", {audit_event(1, "job.created"), audit_event(2, "run.finished")}},
                      {"next_after", 2}}),
            json_answer(200,
                        {{"events", {audit_event(3, "job.created")}}, {"next_after", nullptr}})});
    auto result = hostline({"audit", "export", "--kind", "job.created", "--since", "2026-11-24"});
    EXPECT_EQ(result.status, 0) << result.err;
    std::istringstream lines(result.out);
    std::string line;
    std::vector<json> events;
    while (std::getline(lines, line)) events.push_back(json::parse(line));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[2]["id"], 3);
    EXPECT_EQ(events[0]["hash"], std::string(64, 'a'));
    const auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_TRUE(contains(requests[0].target, "order=oldest")) << requests[0].target;
    EXPECT_TRUE(contains(requests[0].target, "kind=job.created")) << requests[0].target;
    EXPECT_TRUE(contains(requests[0].target, "since=1795478400000")) << requests[0].target;
    EXPECT_TRUE(contains(requests[1].target, "after=2")) << requests[1].target;
}

TEST_F(Commands, AuditWithABadSinceSaysWhatItTakes) {
    auto result = hostline({"audit", "export", "--since", "yesterday"});
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.err, "neither a duration")) << result.err;
}

TEST_F(Commands, AuditListsEventsInATable) {
    server_.on(
        "GET", "/api/v1/audit",
        json_answer(200, {{"events", {audit_event(2, "run.finished")}}, {"next_before", nullptr}}));
    auto result = hostline({"audit"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "run.finished")) << result.out;
    EXPECT_TRUE(contains(result.out, "target=web-*")) << result.out;
}

TEST_F(Commands, TokensCreatePrintsTheSecretAloneOnStdout) {
    server_.on("POST", "/api/v1/tokens",
               json_answer(201, {{"token",
                                  {{"name", "ci"},
                                   {"identity", "local:ci"},
                                   {"expires_at_ms", nullptr},
                                   {"state", "active"}}},
                                 {"secret", "hlt_0123"}}));
    auto result = hostline({"tokens", "create", "ci", "--identity", "local:ci", "--ttl", "30d"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "hlt_0123\n");
    EXPECT_TRUE(contains(result.err, "not shown again")) << result.err;
    const auto body = json::parse(server_.requests().at(0).body);
    EXPECT_EQ(body, (json{{"name", "ci"}, {"identity", "local:ci"}, {"ttl", "30d"}}));
}

TEST_F(Commands, TokensRevokeSendsDeleteAndABadNameIsAUsageError) {
    server_.on("DELETE", "/api/v1/tokens/ci", json_answer(200, {{"token", "ci"}}));
    auto result = hostline({"tokens", "revoke", "ci"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "revoked token 'ci'\n");
    auto bad = hostline({"tokens", "revoke", "../jobs"});
    EXPECT_EQ(bad.status, 2);
    EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(Commands, AgentsDrainAndUndrainPostToTheAgentAndABadNameIsAUsageError) {
    server_.on("POST", "/api/v1/agents/web-1/drain",
               json_answer(200, {{"agent", {{"name", "web-1"}, {"draining", true}}}}));
    server_.on("POST", "/api/v1/agents/web-1/undrain",
               json_answer(200, {{"agent", {{"name", "web-1"}, {"draining", false}}}}));
    auto drained = hostline({"agents", "drain", "web-1"});
    EXPECT_EQ(drained.status, 0) << drained.err;
    EXPECT_EQ(drained.out,
              "web-1 is draining: it gets no new runs and its queued runs wait; running ones "
              "finish (hostline agents undrain web-1 ends it)\n");
    auto undrained = hostline({"agents", "undrain", "web-1"});
    EXPECT_EQ(undrained.status, 0) << undrained.err;
    EXPECT_EQ(undrained.out, "web-1 takes runs again\n");
    EXPECT_EQ(hostline({"agents", "drain", "../jobs"}).status, 2);
    ASSERT_EQ(server_.requests().size(), 2u);

    server_.on("GET", "/api/v1/agents",
               json_answer(200, {{"agents",
                                  {{{"name", "web-1"}, {"online", true}, {"draining", true}},
                                   {{"name", "web-2"}, {"online", true}, {"draining", false}}}},
                                 {"keys", nlohmann::json::array()}}));
    auto listed = hostline({"agents"});
    EXPECT_EQ(listed.status, 0) << listed.err;
    EXPECT_NE(listed.out.find("web-1  draining"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find("web-2  online"), std::string::npos) << listed.out;
}

TEST_F(Commands, TokensListNeverShowsSecrets) {
    server_.on("GET", "/api/v1/tokens",
               json_answer(200, {{"tokens",
                                  {{{"name", "ci"},
                                    {"identity", "local:ci"},
                                    {"state", "revoked"},
                                    {"created_by", "token:admin"},
                                    {"created_at_ms", 1'700'000'000'000},
                                    {"expires_at_ms", nullptr},
                                    {"last_used_ms", nullptr}}}}}));
    auto result = hostline({"tokens", "list"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_TRUE(contains(result.out, "NAME")) << result.out;
    EXPECT_TRUE(contains(result.out, "revoked")) << result.out;
    EXPECT_TRUE(contains(result.out, "never")) << result.out;
}

}  // namespace
}  // namespace hostline::cli

namespace hostline::cli {
namespace {

TEST_F(Commands, LogLevelListsTheModulesAndTheirLevels) {
    server_.on("GET", "/api/v1/log-levels",
               json_answer(200, {{"modules",
                                  {{{"module", "scheduler"}, {"level", "debug"}, {"about", "jobs"}},
                                   {{"module", "store"}, {"level", "info"}, {"about", "db"}}}}}));
    auto result = hostline({"log-level"});
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out,
              "MODULE     LEVEL  ABOUT\n"
              "scheduler  debug  jobs\n"
              "store      info   db\n");
}

TEST_F(Commands, LogLevelSetsOneModuleOrEveryModule) {
    server_.on("PUT", "/api/v1/log-levels",
               json_answer(200, {{"modules", nlohmann::json::array()}}));
    auto one = hostline({"log-level", "scheduler", "debug"});
    EXPECT_EQ(one.status, 0) << one.err;
    EXPECT_EQ(one.out, "scheduler: debug (until the next SIGHUP or restart)\n");
    auto all = hostline({"log-level", "--all", "warn"});
    EXPECT_EQ(all.status, 0) << all.err;
    EXPECT_EQ(all.out, "every module: warn (until the next SIGHUP or restart)\n");
    const auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].method, "PUT");
    EXPECT_EQ(nlohmann::json::parse(requests[0].body),
              (nlohmann::json{{"module", "scheduler"}, {"level", "debug"}}));
    EXPECT_EQ(nlohmann::json::parse(requests[1].body), (nlohmann::json{{"level", "warn"}}));
}

TEST_F(Commands, LogLevelRefusalsArePrintedAndAModuleWithoutALevelIsAUsageError) {
    server_.on("PUT", "/api/v1/log-levels",
               error_answer(400, "bad_request", "unknown log module 'sheduler' (transport, ...)"));
    auto refused = hostline({"log-level", "sheduler", "debug"});
    EXPECT_EQ(refused.status, 1);
    EXPECT_EQ(refused.err, "hostline: unknown log module 'sheduler' (transport, ...)\n");
    EXPECT_EQ(hostline({"log-level", "scheduler"}).status, 2);
    EXPECT_EQ(hostline({"log-level", "scheduler", "--all", "info"}).status, 2);
    EXPECT_EQ(server_.requests().size(), 1u);
}

}  // namespace
}  // namespace hostline::cli
