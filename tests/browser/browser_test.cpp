// The browser scenarios, one TEST each: the cluster its scenario needs, then the scenario.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "browser/browser_fixture.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Every page the scenario photographed is kept as an artefact.
class BrowserUi : public BrowserTest {
  protected:
    void expect_screenshots(const std::string& scenario, std::initializer_list<const char*> names) {
        for (const char* name : names) {
            const fs::path file = artifacts_dir() / (scenario + "-" + name + ".png");
            EXPECT_TRUE(fs::exists(file)) << "no screenshot " << file;
        }
    }
};

// The harness itself, without the UI: chromium reaches the controller, a screenshot is kept,
// and the guards against script errors and alert() report what they should.
TEST_F(BrowserTest, Smoke) {
    cluster.start_controller();
    ASSERT_NO_FATAL_FAILURE(run_scenario("smoke.mjs"));
    EXPECT_TRUE(fs::exists(artifacts_dir() / "smoke-healthz.png"))
        << "no screenshot in " << artifacts_dir();
}

// Log in; see a job appear in the table and its output stream live, colours and all.
TEST_F(BrowserUi, LogInAndWatchAJobsOutputStreamLive) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    ASSERT_NO_FATAL_FAILURE(run_scenario("live-job.mjs"));
    expect_screenshots("live-job",
                       {"login", "jobs", "job-running", "job", "phone-jobs", "phone-job"});
}

// A job that needs approval, approved in the browser by a second user, then run.
TEST_F(BrowserUi, ASecondUserApprovesAPendingJobAndSeesItRun) {
    cluster.set_catalog(bounce_command_toml("leads"));
    cluster.set_policy(R"toml(
[roles.operator]
permissions = ["command.bounce", "jobs.read"]
targets = "*"
[roles.approver]
permissions = ["approvals.decide", "jobs.read"]
targets = "*"
[groups.operators]
members = ["local:alice"]
roles = ["operator"]
[groups.leads]
members = ["local:bob"]
roles = ["approver"]
)toml");
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    add_user("alice", "local:alice");
    add_user("bob", "local:bob");
    const std::string asked = cluster.chat("local:alice", "bounce nginx --on web-1");
    const auto hash = asked.find('#');
    ASSERT_NE(hash, std::string::npos) << asked;
    const std::string job = std::to_string(std::stol(asked.substr(hash + 1)));
    ASSERT_NO_FATAL_FAILURE(run_scenario("approval.mjs", {{"HOSTLINE_PENDING_JOB", job}}));
    expect_screenshots("approval", {"approvals", "approved-job"});
    // What the browser showed is what happened: the agent ran it.
    auto detail = cluster.cli_json({"job", job});
    EXPECT_EQ(detail["job"]["state"], "succeeded") << detail.dump();
}

// A pending agent accepted from the Agents page; the audit page; logging out.
TEST_F(BrowserUi, AcceptAPendingAgentThenLogOut) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.add_agent("newcomer", {.accepted = false});
    cluster.wait_online({"web-1"});
    std::string fingerprint;
    for (int i = 0; i < 300 && fingerprint.empty(); ++i) {
        for (const auto& key :
             cluster.try_cli_json({"agents"}).value("keys", nlohmann::json::array()))
            if (key["name"] == "newcomer" && key["state"] == "pending")
                fingerprint = key["fingerprint"];
        if (fingerprint.empty()) std::this_thread::sleep_for(100ms);
    }
    ASSERT_FALSE(fingerprint.empty()) << cluster.agent_log("newcomer");
    ASSERT_NO_FATAL_FAILURE(
        run_scenario("agents.mjs", {{"HOSTLINE_PENDING_FINGERPRINT", fingerprint}}));
    expect_screenshots("agents", {"agents-pending", "agents", "audit", "logged-out"});
}

// Output, labels and arguments holding <script>, <img onerror> and javascript: links are
// shown as text, and nothing they hold runs.
TEST_F(BrowserUi, HtmlInOutputLabelsAndArgumentsIsShownAsText) {
    cluster.start_controller();
    cluster.add_agent("evil-1", {.labels = {{"note", "<script>alert`label`</script>"}}});
    cluster.wait_online({"evil-1"});
    ASSERT_NO_FATAL_FAILURE(run_scenario("hostile.mjs"));
    expect_screenshots("hostile", {"job", "agents"});
}

}  // namespace
}  // namespace hostline::testing
