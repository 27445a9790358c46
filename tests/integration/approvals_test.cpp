// Approvals end to end: the real controller on a real ngircd, real agents, a person on IRC
// asking, and the CLI deciding (as token:admin, an approver until the policy engine lands).
// What is asserted is what people see: the request in the channel, the CLI's answers, the
// job's runs, and what each agent actually ran.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chat/irc_test_peers.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using chat::irc::test_peers::IrcUser;
using chat::irc::test_peers::Ngircd;
using nlohmann::json;

constexpr const char* kChannel = "#ops";
constexpr const char* kBot = "hostline";

class Approvals : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(Ngircd::installed())
            << "ngircd is missing: scripts/install-deps.sh installs it";
        ASSERT_TRUE(ircd.start());
        cluster.set_catalog(bounce_command_toml("ops"));
        cluster.add_controller_config(
            "[chat.irc]\nhost = \"127.0.0.1\"\nport = " + std::to_string(ircd.port()) +
            "\ntls = false\nnick = \"hostline\"\n"
            "channels = [\"#ops\"]\n"
            "messages_per_second = 20\nburst = 20\n");
        // Alice (any IRC hostmask, as ngircd has no accounts) may ask for bounce on the web
        // hosts; the ops group, the admin token here, decides.
        cluster.set_policy(R"toml(
[roles.web-operator]
permissions = ["command.bounce"]
targets = "role=web"
[roles.approver]
permissions = ["approvals.decide"]
[groups.operators]
members = ["irc:alice!*"]
roles = ["web-operator"]
[groups.ops]
members = ["token:admin"]
roles = ["approver"]
)toml");
        cluster.start_controller();
        cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
        cluster.add_agent("web-2", {.labels = {{"role", "web"}}});
        cluster.wait_online({"web-1", "web-2"});
        user = std::make_unique<IrcUser>(ircd.port(), "alice");
        ASSERT_TRUE(user->log_in());
        ASSERT_TRUE(user->join(kChannel));
        ASSERT_TRUE(user->see_join(kBot, kChannel, 20s)) << "the bot never joined";
    }

    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
            if (user) {
                std::fprintf(stderr, "--- what alice saw in %s ---\n", kChannel);
                for (const auto& m : user->messages())
                    std::fprintf(stderr, "<%s> %s\n", m.from.c_str(), m.text.c_str());
            }
        }
    }

    std::string bot_says(const std::string& part, std::chrono::seconds timeout = 20s) {
        return user->wait_for_message(kBot, kChannel, part, timeout).value_or("");
    }

    Ngircd ircd;
    LocalCluster cluster;
    std::unique_ptr<IrcUser> user;
};

std::map<std::string, json> runs_by_agent(const json& doc) {
    std::map<std::string, json> out;
    for (const json& run : doc.value("runs", json::array())) out[run.value("agent", "")] = run;
    return out;
}

TEST_F(Approvals, ApprovedAfterARestartAndATargetChangeRunsOnlyOnTheHostsShown) {
    user->send("PRIVMSG #ops :!bounce nginx --on role=web");
    std::string request = bot_says("approval needed for job #");
    ASSERT_FALSE(request.empty()) << "no approval request in the channel";
    long id = std::stol(request.substr(request.find('#') + 1));
    EXPECT_NE(request.find("irc:alice"), std::string::npos) << request;
    EXPECT_FALSE(bot_says("sh -c").empty()) << "the request shows the exact argv";
    EXPECT_FALSE(bot_says("on exactly 2 host(s): web-1, web-2").empty());
    EXPECT_FALSE(bot_says("!approve " + std::to_string(id)).empty());

    // Nothing ran, and the CLI shows it waiting, with the hosts the approvers will get.
    json pending = cluster.cli_json({"approvals"});
    ASSERT_EQ(pending["approvals"].size(), 1u) << pending.dump();
    EXPECT_EQ(pending["approvals"][0]["hosts"], json({"web-1", "web-2"}));
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(id)})["job"]["state"], "pending_approval");

    // The controller restarts while the request waits.
    cluster.stop_controller();
    cluster.start_controller();
    cluster.wait_online({"web-1", "web-2"});
    pending = cluster.cli_json({"approvals"});
    ASSERT_EQ(pending["approvals"].size(), 1u) << "the request did not survive the restart";

    // The fleet changes: a new matching host appears, an approved one goes away.
    cluster.add_agent("web-3", {.labels = {{"role", "web"}}});
    cluster.wait_online({"web-3"});
    cluster.stop_agent("web-2");

    CommandResult approved = cluster.cli({"approvals", "approve", std::to_string(id)});
    ASSERT_EQ(approved.exit_code, 0) << approved.err;
    EXPECT_NE(approved.out.find("approved: running on web-1, web-2"), std::string::npos)
        << approved.out;
    json doc = cluster.wait_job(
        id, [](const json& d) { return d["job"].value("state", "") == "partial"; });
    auto runs = runs_by_agent(doc);
    ASSERT_EQ(runs.size(), 2u) << doc.dump();
    EXPECT_EQ(runs["web-1"]["state"], "succeeded");
    EXPECT_EQ(runs["web-2"]["state"], "skipped") << "offline at run time";
    EXPECT_EQ(runs.count("web-3"), 0u) << "web-3 was not among the approved hosts";
    json output = cluster.cli_json({"job", std::to_string(id), "--output"});
    std::string all;
    for (const auto& item : output.value("output", json::array())) all += item.value("data", "");
    EXPECT_NE(all.find("bounced nginx on web-1"), std::string::npos) << all;
    EXPECT_EQ(all.find("web-3"), std::string::npos) << all;
    EXPECT_FALSE(bot_says("approved by token:admin").empty());
    EXPECT_FALSE(bot_says("job #" + std::to_string(id) + " partial").empty());

    // A second decision on a decided job is refused with a reason.
    CommandResult again = cluster.cli({"approvals", "approve", std::to_string(id)});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("no pending approval"), std::string::npos) << again.err;
}

TEST_F(Approvals, DeniedFromTheCliEndsTheJobAndTellsTheChannel) {
    user->send("PRIVMSG #ops :!bounce nginx --on web-1");
    std::string request = bot_says("approval needed for job #");
    ASSERT_FALSE(request.empty());
    long id = std::stol(request.substr(request.find('#') + 1));
    CommandResult denied =
        cluster.cli({"approvals", "deny", std::to_string(id), "--reason", "not during the sale"});
    ASSERT_EQ(denied.exit_code, 0) << denied.err;
    EXPECT_FALSE(bot_says("was denied by token:admin: not during the sale").empty());
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(id)})["job"]["state"], "denied");
    json decided = cluster.cli_json({"approvals", "list", "--state", "denied"});
    ASSERT_EQ(decided["approvals"].size(), 1u);
    EXPECT_EQ(decided["approvals"][0]["reason"], "denied by token:admin: not during the sale");
}

}  // namespace
}  // namespace hostline::testing
