// Defence in depth on the host, end to end: agents whose agent.toml [agent.accept] narrows
// what they run refuse the rest, say why, and nothing of it executes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/chat_over_http.hpp"
#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using nlohmann::json;

bool job_final(const json& doc) {
    const std::string state = doc.contains("job") ? doc["job"].value("state", "") : "";
    return state == "succeeded" || state == "failed" || state == "partial" ||
           state == "timed_out" || state == "cancelled";
}

class AgentGuard : public ClusterTest {
  protected:
    void SetUp() override {
        const std::string catalog = cluster.dir() + "/commands.d";
        std::filesystem::create_directories(catalog + "/scripts");
        marks_ = cluster.dir() + "/marks";
        std::filesystem::create_directories(marks_);
        // Each command leaves a mark named after itself and its host: the test sees what ran.
        auto leaves_mark = [&](const std::string& what) {
            return "touch \"" + marks_ + "/" + what + "-$HOSTLINE_AGENT\"";
        };
        std::ofstream(catalog + "/scripts/tidy.sh") << "#!/bin/sh\n" << leaves_mark("tidy") << "\n";
        std::ofstream(catalog + "/scripts/wipe.sh") << "#!/bin/sh\n" << leaves_mark("wipe") << "\n";
        auto command = [&](const std::string& name) {
            json run = {"/bin/sh", "-c", leaves_mark(name)};
            return "[[command]]\nname = \"" + name +
                   "\"\nsummary = \"Leaves a mark\"\nrun = " + run.dump() + "\n";
        };
        std::ofstream(catalog + "/guard.toml")
            << command("greet") << command("restart-service")
            << "[[command]]\nname = \"tidy\"\nsummary = \"The allowed script\"\n"
               "script = \"scripts/tidy.sh\"\n"
               "[[command]]\nname = \"wipe\"\nsummary = \"A script no host allows\"\n"
               "script = \"scripts/wipe.sh\"\n";
        tidy_sha256_ = sha256_of(catalog + "/scripts/tidy.sh");
        wipe_sha256_ = sha256_of(catalog + "/scripts/wipe.sh");
        cluster.add_controller_config("[catalog]\ndir = \"" + catalog + "\"\n");
        // The controller's policy allows everything: what is under test is the agent's own.
        cluster.set_policy("[groups.everyone]\nmembers = [\"local:*\"]\nroles = [\"admin\"]\n");
        cluster.start_controller();
    }

    static std::string sha256_of(const std::string& path) {
        CommandResult r = run_command({"/usr/bin/sha256sum", path});
        return r.out.substr(0, 64);
    }

    bool marked(const std::string& what, const std::string& host) const {
        return std::filesystem::exists(marks_ + "/" + what + "-" + host);
    }

    ChatAnswer say(const std::string& text) {
        return say_in_chat(cluster, "local:alice", text,
                           cluster.dir() + "/chat-" + std::to_string(++said_));
    }

    std::string marks_;
    std::string tidy_sha256_;
    std::string wipe_sha256_;
    int said_ = 0;
};

// The job id in "job #N on ..." (the chat's acknowledgement), or -1.
long job_id_in(const ChatAnswer& answer) {
    for (const std::string& reply : answer.replies)
        if (reply.rfind("job #", 0) == 0) return std::atol(reply.c_str() + 5);
    return -1;
}

TEST_F(AgentGuard, AHostWithAdHocRunsOffRefusesHostlineRunAndSaysWhy) {
    cluster.add_agent("locked", {.extra_toml = "[agent.accept]\nadhoc = false\n"});
    cluster.add_agent("open");
    cluster.wait_online({"locked", "open"});
    const std::string mark = marks_ + "/adhoc";

    int exit_code = 0;
    json doc = cluster.cli_json({"run", "--on", "locked,open", "--", "touch", mark}, &exit_code);
    EXPECT_NE(exit_code, 0) << doc.dump();
    long id = doc["job"].value("id", -1L);
    ASSERT_GT(id, 0) << doc.dump();
    doc = cluster.wait_job(id, job_final);
    EXPECT_EQ(doc["job"]["state"], "partial") << doc.dump();
    for (const json& run : doc["runs"]) {
        if (run["agent"] == "locked") {
            EXPECT_EQ(run["state"], "failed");
            EXPECT_EQ(run["error"],
                      "rejected by agent locked: ad-hoc runs are turned off on this host");
        } else {
            EXPECT_EQ(run["state"], "succeeded") << run.dump();
        }
    }
    EXPECT_EQ(doc["job"]["catalog_command"], "");
    // What a person reads in `hostline job ID`.
    CommandResult shown = cluster.cli({"job", std::to_string(id)});
    EXPECT_NE(shown.out.find("ad-hoc runs are turned off on this host"), std::string::npos)
        << shown.out;

    // From the chat, the summary says it too; a catalog command still runs there.
    ChatAnswer adhoc = say("!run --on locked -- touch " + mark + "-chat");
    EXPECT_NE(adhoc.all().find("locked  failed  (rejected by agent locked: ad-hoc runs are "
                               "turned off on this host)"),
              std::string::npos)
        << adhoc.all();
    EXPECT_FALSE(std::filesystem::exists(mark + "-chat"));
    ChatAnswer greet = say("!greet --on locked");
    EXPECT_NE(greet.all().find("succeeded"), std::string::npos) << greet.all();
    EXPECT_TRUE(marked("greet", "locked"));
    EXPECT_NE(cluster.agent_log("locked").find("ad-hoc runs are turned off on this host"),
              std::string::npos);
}

TEST_F(AgentGuard, AHostThatNamesItsCommandsRefusesEveryOther) {
    cluster.add_agent("named",
                      {.extra_toml = "[agent.accept]\ncommands = [\"greet\", \"tidy\"]\n"});
    cluster.wait_online({"named"});

    ChatAnswer greet = say("!greet --on named");
    EXPECT_NE(greet.all().find("succeeded"), std::string::npos) << greet.all();
    EXPECT_TRUE(marked("greet", "named"));

    ChatAnswer restart = say("!restart-service --on named");
    EXPECT_NE(restart.all().find("named  failed  (rejected by agent named: command "
                                 "'restart-service' is not accepted on this host)"),
              std::string::npos)
        << restart.all();
    EXPECT_FALSE(marked("restart", "named"));
    long id = job_id_in(restart);
    ASSERT_GT(id, 0) << restart.all();
    json doc = cluster.cli_json({"job", std::to_string(id)});
    EXPECT_EQ(doc["job"]["catalog_command"], "restart-service");
    CommandResult shown = cluster.cli({"job", std::to_string(id)});
    EXPECT_NE(shown.out.find("catalog    restart-service"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("command 'restart-service' is not accepted on this host"),
              std::string::npos)
        << shown.out;

    // Naming commands turned ad-hoc runs off as well.
    ChatAnswer adhoc = say("!run --on named -- true");
    EXPECT_NE(adhoc.all().find("ad-hoc runs are turned off on this host"), std::string::npos)
        << adhoc.all();
}

TEST_F(AgentGuard, AHostWithAScriptHashListRunsOnlyThoseScripts) {
    cluster.add_agent(
        "hashed", {.extra_toml = "[agent.accept]\nscript_hashes = [\"" + tidy_sha256_ + "\"]\n"});
    cluster.wait_online({"hashed"});

    ChatAnswer tidy = say("!tidy --on hashed");
    EXPECT_NE(tidy.all().find("succeeded"), std::string::npos) << tidy.all();
    EXPECT_TRUE(marked("tidy", "hashed"));

    ChatAnswer wipe = say("!wipe --on hashed");
    EXPECT_NE(wipe.all().find("(rejected by agent hashed: script sha256 " + wipe_sha256_ +
                              " is not accepted on this host)"),
              std::string::npos)
        << wipe.all();
    EXPECT_FALSE(marked("wipe", "hashed"));
    // Commands that are not scripts are not affected by the list.
    ChatAnswer greet = say("!greet --on hashed");
    EXPECT_NE(greet.all().find("succeeded"), std::string::npos) << greet.all();
}

}  // namespace
}  // namespace hostline::testing
