// Policy end to end: the real controller with a policy file, real agents, a chat identity
// speaking through the terminal chat's API, and reloads by SIGHUP and `hostline policy reload`.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

const char* kCatalog = R"toml(
[[command]]
name = "hello"
summary = "Say hello"
run = ["echo", "hello from hostline"]
)toml";

const char* kPolicyWebOnly = R"toml(
[roles.web-operator]
permissions = ["command.hello"]
targets = "role=web"

[groups.web-team]
members = ["local:bob"]
roles = ["web-operator"]
)toml";

class PolicyEndToEnd : public ClusterTest {
  protected:
    void SetUp() override {
        const std::string catalog = cluster.dir() + "/commands.d";
        std::filesystem::create_directories(catalog);
        std::ofstream(catalog + "/hello.toml") << kCatalog;
        cluster.add_controller_config("[catalog]\ndir = \"" + catalog + "\"\n");
        cluster.set_policy(kPolicyWebOnly);
    }
    // Asks until the answer contains want (a reload is read off the loop), up to 15 s.
    std::string chat_until(const std::string& identity, const std::string& text,
                           const std::string& want) {
        std::string answer;
        for (auto end = std::chrono::steady_clock::now() + 15s;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(200ms)) {
            answer = cluster.chat(identity, text);
            if (answer.find(want) != std::string::npos) break;
        }
        return answer;
    }
};

TEST_F(PolicyEndToEnd, AChatUserMayRunOneCommandOnItsScopeOnlyAndSighupChangesTheAnswer) {
    cluster.start_controller();
    cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
    cluster.add_agent("db-1", {.labels = {{"role", "db"}}});
    cluster.wait_online({"web-1", "db-1"});

    std::string answer = cluster.chat("local:bob", "hello --on web-1");
    EXPECT_NE(answer.find("job #1 on 1 host(s): web-1"), std::string::npos) << answer;
    EXPECT_NE(answer.find("job #1 succeeded"), std::string::npos) << answer;
    EXPECT_NE(answer.find("web-1 | hello from hostline"), std::string::npos) << answer;

    EXPECT_EQ(cluster.chat("local:bob", "hello --on db-1"),
              "denied: db-1 is outside the hosts your roles may touch (role=web)\n");
    EXPECT_EQ(cluster.chat("local:bob", "hello --on *"),
              "denied: db-1 is outside the hosts your roles may touch (role=web)\n");
    EXPECT_EQ(cluster.chat("local:bob", "run --on web-1 -- id"),
              "denied: you (local:bob) lack run.adhoc\n");
    EXPECT_EQ(cluster.chat("local:carol", "hello --on web-1"),
              "denied: you (local:carol) lack command.hello\n");
    answer = cluster.chat("local:bob", "whoami");
    EXPECT_NE(answer.find("web-operator: command.hello; hosts: role=web; channels: any"),
              std::string::npos)
        << answer;
    // Only job #1 ever ran: what was denied never reached an agent.
    auto jobs = cluster.cli_json({"jobs"});
    ASSERT_EQ(jobs.at("jobs").size(), 1u) << jobs.dump();

    // The same file with the scope widened, applied by SIGHUP.
    std::string wider = kPolicyWebOnly;
    wider.replace(wider.find("role=web"), 8, "*");
    cluster.set_policy(wider);
    cluster.signal_controller(SIGHUP);
    answer = chat_until("local:bob", "hello --on db-1", "succeeded");
    EXPECT_NE(answer.find("job #2 on 1 host(s): db-1"), std::string::npos) << answer;
    EXPECT_NE(answer.find("db-1 | hello from hostline"), std::string::npos) << answer;

    // A broken file is refused by `hostline policy reload`; the policy in force stays.
    cluster.set_policy("[roles.web-operator]\npermissions = [\"command.helo\"]\n");
    auto reload = cluster.cli({"policy", "reload"});
    EXPECT_NE(reload.exit_code, 0);
    EXPECT_NE(reload.err.find(cluster.policy_path() +
                              ": roles.web-operator.permissions: 'command.helo' is not the "
                              "permission of any catalog command"),
              std::string::npos)
        << reload.err;
    answer = cluster.chat("local:bob", "hello --on db-1 --dry-run");
    EXPECT_EQ(answer, "dry run: would run echo 'hello from hostline' on db-1; nothing ran\n");

    // And a good one is taken.
    cluster.set_policy(kPolicyWebOnly);
    reload = cluster.cli({"policy", "reload"});
    EXPECT_EQ(reload.exit_code, 0) << reload.err;
    EXPECT_EQ(reload.out, "policy reloaded from " + cluster.policy_path() + "\n");
    EXPECT_EQ(cluster.chat("local:bob", "hello --on db-1"),
              "denied: db-1 is outside the hosts your roles may touch (role=web)\n");
}

TEST_F(PolicyEndToEnd, ABadPolicyFileStopsTheControllerFromStarting) {
    cluster.set_policy("[roles.ops]\npermissions = [\"run.adhoc\"]\nchannel = [\"irc:#ops\"]\n");
    auto check = run_command({cluster.bin("hostline-controller"), "--check-config", "--config",
                              cluster.dir() + "/controller.toml"});
    EXPECT_EQ(check.exit_code, 2);
    EXPECT_NE(check.err.find(cluster.policy_path() + ": roles.ops.channel: is not a known setting"),
              std::string::npos)
        << check.err;
    EXPECT_THROW(cluster.start_controller(), std::runtime_error);
}

}  // namespace
}  // namespace hostline::testing
