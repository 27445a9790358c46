// Agent enrollment end to end (docs/agents.md): a real controller, real agents, the real CLI
// and `hostline-agent enroll`: tokens, pending keys, accept, revoke, names already taken.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class Enrollment : public ::testing::Test {
  protected:
    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
        }
    }

    std::string create_token(std::vector<std::string> options = {}) {
        std::vector<std::string> args{"agents", "token", "create"};
        args.insert(args.end(), options.begin(), options.end());
        CommandResult r = cluster.cli(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::string token = r.out.substr(0, r.out.find('\n'));
        EXPECT_EQ(token.rfind("hle1.", 0), 0u) << r.out;
        return token;
    }

    // `hostline-agent enroll TOKEN --name NAME` with its own config and state dir.
    CommandResult enroll(const std::string& token, const std::string& name) {
        std::string dir = cluster.dir() + "/enrolled/" + name + "-" + std::to_string(++enrolls_);
        std::filesystem::create_directories(dir);
        config_[name] = dir + "/agent.toml";
        return run_command({cluster.bin("hostline-agent"), "enroll", token, "--name", name,
                            "--config", dir + "/agent.toml", "--state-dir", dir + "/state"},
                           30s);
    }

    json key_of(const std::string& name, const std::string& state) {
        json doc = cluster.cli_json({"agents"});
        for (const json& key : doc["keys"])
            if (key["name"] == name && key["state"] == state) return key;
        return json();
    }

    bool is_host(const std::string& name) {
        json doc = cluster.cli_json({"agents"});
        for (const json& a : doc["agents"])
            if (a["name"] == name) return true;
        return false;
    }

    template <typename Pred>
    bool eventually(Pred pred, std::chrono::milliseconds timeout = 15s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (pred()) return true;
            std::this_thread::sleep_for(100ms);
        }
        return pred();
    }

    LocalCluster cluster;
    std::map<std::string, std::string> config_;
    int enrolls_ = 0;
};

TEST_F(Enrollment, AValidTokenEnrollsTheAgentWithTheTokensLabels) {
    cluster.start_controller();
    std::string token = create_token({"--labels", "role=web,env=prod", "--ttl", "10m"});

    CommandResult r = enroll(token, "e1");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("enrolled as e1 (key SHA256:"), std::string::npos) << r.out;
    json key = key_of("e1", "accepted");
    ASSERT_FALSE(key.is_null());
    EXPECT_NE(r.out.find(key["fingerprint"].get<std::string>()), std::string::npos)
        << "the agent shows the fingerprint the controller shows";

    cluster.start_agent("e1", config_["e1"]);
    cluster.wait_online({"e1"});
    json doc = cluster.cli_json({"agents"});
    EXPECT_EQ(doc["agents"][0]["labels"]["role"], "web") << doc.dump();
    EXPECT_EQ(doc["agents"][0]["labels"]["env"], "prod") << doc.dump();
    int exit_code = -1;
    json job =
        cluster.cli_json({"run", "--on", "role=web&env=prod", "--", "echo", "hi"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << job.dump();
}

TEST_F(Enrollment, AReusedTokenIsRefused) {
    cluster.start_controller();
    std::string token = create_token();
    ASSERT_EQ(enroll(token, "e1").exit_code, 0);
    CommandResult second = enroll(token, "e2");
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.err.find("the enrollment token was already used"), std::string::npos)
        << second.err;
    EXPECT_TRUE(key_of("e2", "accepted").is_null());
    EXPECT_FALSE(std::filesystem::exists(config_["e2"])) << "a refused enrollment writes nothing";
}

TEST_F(Enrollment, AnExpiredTokenIsRefused) {
    cluster.start_controller();
    std::string token = create_token({"--ttl", "1s"});
    std::this_thread::sleep_for(1500ms);
    CommandResult r = enroll(token, "e1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("the enrollment token has expired"), std::string::npos) << r.err;
    EXPECT_TRUE(key_of("e1", "accepted").is_null());
}

TEST_F(Enrollment, AMalformedTokenIsRefusedBeforeConnecting) {
    CommandResult r = run_command({cluster.bin("hostline-agent"), "enroll", "hle1.abc", "--config",
                                   cluster.dir() + "/x.toml", "--state-dir", cluster.dir() + "/x"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("the enrollment token is not valid: the token is truncated"),
              std::string::npos)
        << r.err;
}

TEST_F(Enrollment, AnAgentWithoutATokenIsPendingUntilAccepted) {
    cluster.start_controller();
    cluster.add_agent("known");
    cluster.add_agent("newcomer", {.accepted = false});
    cluster.wait_online({"known"});
    ASSERT_TRUE(eventually([&] { return !key_of("newcomer", "pending").is_null(); }));
    EXPECT_TRUE(eventually([&] {
        return cluster.agent_log("newcomer").find("is pending: an admin must accept it") !=
               std::string::npos;
    })) << cluster.agent_log("newcomer");
    EXPECT_FALSE(is_host("newcomer")) << "a pending agent is no host";
    CommandResult human = cluster.cli({"agents"});
    EXPECT_NE(human.out.find("newcomer  pending  key SHA256:"), std::string::npos) << human.out;
    CommandResult r = cluster.cli({"run", "--on", "newcomer", "--", "true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("no agent matches 'newcomer'"), std::string::npos) << r.err;

    std::string fingerprint = key_of("newcomer", "pending")["fingerprint"];
    CommandResult no = cluster.cli({"agents", "accept", "newcomer"});  // stdin is /dev/null
    EXPECT_EQ(no.exit_code, 1);
    EXPECT_NE(no.err.find("accept agent newcomer with key " + fingerprint + "?"), std::string::npos)
        << no.err;
    EXPECT_TRUE(key_of("newcomer", "accepted").is_null());

    CommandResult yes = cluster.cli({"agents", "accept", "newcomer", "--yes"});
    EXPECT_EQ(yes.exit_code, 0) << yes.err;
    EXPECT_EQ(yes.out, "accepted newcomer (key " + fingerprint + ")\n");
    cluster.wait_online({"newcomer"}, 30s);
    int exit_code = -1;
    cluster.cli_json({"run", "--on", "newcomer", "--", "true"}, &exit_code);
    EXPECT_EQ(exit_code, 0);
}

TEST_F(Enrollment, AnAdminAcceptsAPendingAgentFromTheChatAndOthersMayNot) {
    cluster.set_policy(
        "[groups.admins]\nmembers = [\"local:root-admin\"]\nroles = [\"admin\"]\n"
        "[roles.viewer]\npermissions = [\"jobs.read\"]\n"
        "[groups.viewers]\nmembers = [\"local:visitor\"]\nroles = [\"viewer\"]\n");
    cluster.start_controller();
    cluster.add_agent("newcomer", {.accepted = false});
    ASSERT_TRUE(eventually([&] { return !key_of("newcomer", "pending").is_null(); }));
    const std::string fingerprint = key_of("newcomer", "pending")["fingerprint"];

    std::string refused = cluster.chat("local:visitor", "!agents accept newcomer");
    EXPECT_NE(refused.find("denied: you (local:visitor) lack agents.manage"), std::string::npos)
        << refused;
    EXPECT_TRUE(key_of("newcomer", "accepted").is_null()) << "still pending";

    std::string accepted = cluster.chat("local:root-admin", "!agents accept newcomer");
    EXPECT_NE(accepted.find("accepted agent newcomer (key " + fingerprint + ")"), std::string::npos)
        << accepted;
    cluster.wait_online({"newcomer"}, 30s);
    EXPECT_NE(cluster.chat("local:root-admin", "!agents accept ghost").find("error:"),
              std::string::npos);
}

TEST_F(Enrollment, ARevokedAgentIsCutOffAtOnceAndRefusedOnReconnect) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.add_agent("a2");
    cluster.wait_online({"a1", "a2"});
    cluster.cli_background({"run", "--on", "*", "--", "sleep", "30"}, cluster.dir() + "/run.log");
    long job = 0;
    for (int i = 0; i < 100 && job == 0; ++i) {
        json jobs = cluster.cli_json({"jobs"});
        if (!jobs["jobs"].empty()) job = jobs["jobs"][0]["id"];
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_GT(job, 0);
    cluster.wait_job(job, [](const json& doc) {
        for (const json& run : doc["runs"])
            if (run["state"] != "running") return false;
        return doc["runs"].size() == 2;
    });

    CommandResult r = cluster.cli({"agents", "revoke", "a1", "--yes"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("revoked a1 (key SHA256:", 0), 0u) << r.out;

    json doc = cluster.wait_job(
        job,
        [](const json& doc) {
            for (const json& run : doc["runs"])
                if (run["agent"] == "a1") return run["state"] == "lost";
            return false;
        },
        5s);
    for (const json& run : doc["runs"]) {
        if (run["agent"] == "a1") {
            EXPECT_EQ(run["state"], "lost") << doc.dump();
            EXPECT_EQ(run["error"], "agent a1 was revoked") << doc.dump();
        } else {
            EXPECT_EQ(run["state"], "running") << "the other agent is untouched: " << doc.dump();
        }
    }
    EXPECT_FALSE(is_host("a1"));
    EXPECT_FALSE(key_of("a1", "revoked").is_null());
    EXPECT_TRUE(eventually([&] {
        return cluster.agent_log("a1").find("the controller revoked this agent") !=
               std::string::npos;
    })) << cluster.agent_log("a1");
    // It reconnects, and the handshake refuses it.
    EXPECT_TRUE(eventually(
        [&] { return cluster.controller_log().find("with a revoked key") != std::string::npos; },
        30s))
        << cluster.controller_log();
    EXPECT_FALSE(is_host("a1"));
    CommandResult again = cluster.cli({"run", "--on", "a1", "--", "true"});
    EXPECT_NE(again.exit_code, 0);
    cluster.cli({"cancel", std::to_string(job)});
}

TEST_F(Enrollment, ANameAlreadyTakenCannotBeClaimedByAnotherKey) {
    cluster.start_controller();
    cluster.add_agent("web-01");
    cluster.wait_online({"web-01"});

    // With a token: refused.
    CommandResult r = enroll(create_token(), "web-01");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("the name web-01 is already taken by another agent"), std::string::npos)
        << r.err;

    // Without one: an impostor saying hello as web-01 is told the name is taken.
    std::string dir = cluster.dir() + "/impostor";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/agent.toml")
        << "[agent]\nname = \"web-01\"\nstate_dir = \"" << dir << "/state\"\n[controller]\n"
        << "endpoint = \"" << cluster.agent_endpoint() << "\"\npublic_key = \""
        << cluster.controller_public_key() << "\"\n";
    cluster.start_agent("impostor", dir + "/agent.toml");
    EXPECT_TRUE(eventually([&] {
        return cluster.agent_log("impostor").find("the name web-01 is already taken") !=
               std::string::npos;
    })) << cluster.agent_log("impostor");
    EXPECT_TRUE(key_of("web-01", "pending").is_null());

    // The first agent keeps its connection and its work.
    int exit_code = -1;
    json job = cluster.cli_json({"run", "--on", "web-01", "--", "echo", "still me"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << job.dump();
    json agents = cluster.cli_json({"agents"});
    ASSERT_EQ(agents["agents"].size(), 1u);
    EXPECT_TRUE(agents["agents"][0]["online"].get<bool>());
}

}  // namespace
}  // namespace hostline::testing
