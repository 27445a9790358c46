// Agent enrollment end to end (docs/agents.md): a real controller, real agents, the real CLI
// and `hostline-agent enroll`: tokens, the enrollment kept in the state directory beside an
// agent.toml that is never rewritten, pending keys, accept, revoke, names already taken.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class Enrollment : public ClusterTest {
  protected:
    std::string create_token(std::vector<std::string> options = {}) {
        std::vector<std::string> args{"agents", "token", "create"};
        args.insert(args.end(), options.begin(), options.end());
        CommandResult r = cluster.cli(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        std::string token = r.out.substr(0, r.out.find('\n'));
        EXPECT_EQ(token.rfind("hle1.", 0), 0u) << r.out;
        return token;
    }

    // A host's directory with an agent.toml as the package installs it: a state_dir, no
    // [controller] section; and `extra` after it.
    std::string new_host(const std::string& extra = "") {
        std::string dir = cluster.dir() + "/enrolled/host-" + std::to_string(++hosts_);
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/agent.toml")
            << "[agent]\nstate_dir = \"" << dir << "/state\"\ncapacity = 4\n"
            << extra;
        return dir;
    }

    // `hostline-agent enroll TOKEN --name NAME --config HOST/agent.toml --no-start` and args.
    CommandResult enroll_on(const std::string& host, const std::string& token,
                            const std::string& name,
                            std::vector<std::string> args = {"--no-start"}) {
        config_[name] = host + "/agent.toml";
        std::vector<std::string> argv{
            cluster.bin("hostline-agent"), "enroll", token, "--name", name, "--config",
            host + "/agent.toml"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 30s);
    }

    // The same on a new host.
    CommandResult enroll(const std::string& token, const std::string& name) {
        return enroll_on(new_host(), token, name);
    }

    static std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
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

    std::map<std::string, std::string> config_;  // agent.toml of each name enrolled
    int hosts_ = 0;
};

TEST_F(Enrollment, AValidTokenEnrollsTheAgentWithTheTokensLabels) {
    cluster.start_controller();
    std::string token = create_token({"--labels", "role=web,env=prod", "--ttl", "10m"});

    const std::string host = new_host();
    const std::string packaged = read(host + "/agent.toml");
    CommandResult r = enroll_on(host, token, "e1");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    json key = key_of("e1", "accepted");
    ASSERT_FALSE(key.is_null());
    const std::string kept = host + "/state/enrollment.toml";
    EXPECT_EQ(r.out, "enrolled as e1 (key " + key["fingerprint"].get<std::string>() +
                         "); kept in " + kept +
                         "\nnot started (--no-start): systemctl enable --now hostline-agent, or "
                         "hostline-agent --config " +
                         host + "/agent.toml\n")
        << "the agent shows the fingerprint the controller shows";
    EXPECT_EQ(read(host + "/agent.toml"), packaged) << "agent.toml is the admin's: never rewritten";
    struct stat st {};
    ASSERT_EQ(::stat(kept.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    CommandResult check = run_command(
        {cluster.bin("hostline-agent"), "--check-config", "--config", host + "/agent.toml"});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    EXPECT_EQ(check.out, host + "/agent.toml: ok; controller " + cluster.agent_endpoint() +
                             " from " + kept + "\n");

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
    const std::string host = std::filesystem::path(config_["e2"]).parent_path().string();
    EXPECT_FALSE(std::filesystem::exists(host + "/state/enrollment.toml"))
        << "a refused enrollment keeps nothing";
    CommandResult check =
        run_command({cluster.bin("hostline-agent"), "--check-config", "--config", config_["e2"]});
    EXPECT_EQ(check.exit_code, 2);
    EXPECT_NE(check.err.find(config_["e2"] +
                             ": not enrolled (no [controller] section here, and "
                             "no " +
                             host +
                             "/state/enrollment.toml): run hostline-agent enroll TOKEN, or set "
                             "[controller] in agent.toml"),
              std::string::npos)
        << check.err;
}

// An enrolled host enrolled again with the same controller (--force keeps its key, which the
// controller already accepts): refused, naming the agent the key is accepted as; the token is
// left unused and the enrollment as it was.
TEST_F(Enrollment, AKeyAlreadyAcceptedIsToldAsWhomNotEnrolledAgain) {
    cluster.start_controller();
    const std::string host = new_host();
    ASSERT_EQ(enroll_on(host, create_token(), "e1").exit_code, 0);
    const std::string first = read(host + "/state/enrollment.toml");

    const std::string token = create_token();
    CommandResult again = enroll_on(host, token, "e2", {"--no-start", "--force"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("the controller refused to enroll this agent: this host's key is "
                             "already accepted as agent e1: it needs no enrollment (to enroll it "
                             "anew, revoke it first)"),
              std::string::npos)
        << again.err;
    EXPECT_EQ(read(host + "/state/enrollment.toml"), first);
    // The token was not spent on it: another host enrolls with it.
    EXPECT_EQ(enroll_on(new_host(), token, "e3").exit_code, 0);
}

// Moving a host to another controller: its enrollment is replaced only with --force.
TEST_F(Enrollment, AHostAlreadyEnrolledIsRefusedUnlessForced) {
    cluster.start_controller();
    LocalCluster other;
    other.start_controller();
    const std::string host = new_host();
    ASSERT_EQ(enroll_on(host, create_token(), "e1").exit_code, 0);
    const std::string first = read(host + "/state/enrollment.toml");
    auto other_token = [&] {
        CommandResult r = other.cli({"agents", "token", "create", "--labels", "role=db"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out.substr(0, r.out.find('\n'));
    };

    CommandResult again = enroll_on(host, other_token(), "e1");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err,
              "hostline-agent: enrollment failed: this host is already enrolled as e1 "
              "with the controller at " +
                  cluster.agent_endpoint() + " (" + host +
                  "/state/enrollment.toml); use --force to enroll again\n");
    EXPECT_EQ(read(host + "/state/enrollment.toml"), first);

    CommandResult forced = enroll_on(host, other_token(), "e1", {"--no-start", "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    const std::string kept = read(host + "/state/enrollment.toml");
    EXPECT_NE(kept.find("endpoint = \"" + other.agent_endpoint() + "\""), std::string::npos)
        << kept;
    EXPECT_NE(kept.find("\"role\" = \"db\""), std::string::npos) << kept;
    cluster.stop_controller();  // the agent must find the other one
    other.start_agent("e1", host + "/agent.toml");
    other.wait_online({"e1"});
}

TEST_F(Enrollment, AgentTomlsOwnControllerWinsAndEnrollSaysSo) {
    cluster.start_controller();
    const std::string host = new_host(
        "[controller]\nendpoint = \"tcp://127.0.0.1:1\"\n"
        "public_key = \"" +
        cluster.controller_public_key() + "\"\n");
    CommandResult r = enroll_on(host, create_token(), "e1");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "hostline-agent: warning: " + host +
                         "/agent.toml has its own [controller] section, which wins over the "
                         "enrollment: the agent will connect to tcp://127.0.0.1:1, not to the "
                         "token's controller; remove that section to use the enrollment\n");
    CommandResult check = run_command(
        {cluster.bin("hostline-agent"), "--check-config", "--config", host + "/agent.toml"});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    EXPECT_NE(check.out.find(host + "/state/enrollment.toml is not used: " + host +
                             "/agent.toml has its own [controller] section"),
              std::string::npos)
        << check.out;
}

TEST_F(Enrollment, AStateDirTheAgentWouldNotReadIsRefusedBeforeConnecting) {
    const std::string host = new_host();
    cluster.start_controller();
    CommandResult valid =
        run_command({cluster.bin("hostline-agent"), "enroll", create_token(), "--config",
                     host + "/agent.toml", "--state-dir", host + "/elsewhere", "--no-start"});
    EXPECT_EQ(valid.exit_code, 1);
    EXPECT_EQ(valid.err, "hostline-agent: enrollment failed: --state-dir " + host +
                             "/elsewhere is not the state_dir of " + host + "/agent.toml (" + host +
                             "/state), where the agent looks for its enrollment: set [agent] "
                             "state_dir there, or leave --state-dir out\n");
    EXPECT_FALSE(std::filesystem::exists(host + "/elsewhere"));
}

// Without --no-start, enroll starts the service through systemd; on a host without it (a
// container, this test's usual home) it says how to start the agent by hand and exits 0. On a
// host that systemd runs, the test does not touch the host's services: it checks --no-start.
TEST_F(Enrollment, WithoutSystemdEnrollSaysHowToStartTheAgentByHand) {
    cluster.start_controller();
    const std::string host = new_host();
    const bool systemd = std::filesystem::is_directory("/run/systemd/system");
    CommandResult r =
        enroll_on(host, create_token(), "e1",
                  systemd ? std::vector<std::string>{"--no-start"} : std::vector<std::string>{});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string last_line = r.out.substr(r.out.find('\n') + 1);
    EXPECT_EQ(last_line,
              systemd ? "not started (--no-start): systemctl enable --now hostline-agent, or "
                        "hostline-agent --config " +
                            host + "/agent.toml\n"
                      : "systemd does not run on this host: start the agent yourself, as root (or "
                        "as the user that owns its state_dir): hostline-agent --config " +
                            host + "/agent.toml\n");
    cluster.start_agent("e1", host + "/agent.toml");
    cluster.wait_online({"e1"});
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
