#include "agent/agent_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace hostline::agent {
namespace {

const char* kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

class AgentConfigTest : public ::testing::Test {
  protected:
    Result<AgentConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_agent_config(path_);
    }
    void TearDown() override { std::remove(path_.c_str()); }
    std::string path_ = "/tmp/hostline-agent-config-test-" + std::to_string(::getpid()) + ".toml";
};

TEST_F(AgentConfigTest, ReadsEveryKey) {
    auto c =
        load(std::string("[agent]\nname = \"web-01\"\nstate_dir = \"/var/lib/x\"\ncapacity = 8\n"
                         "kill_grace = \"3s\"\n[agent.labels]\nrole = \"web\"\n[controller]\n"
                         "endpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
             kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->name, "web-01");
    EXPECT_EQ(c->capacity, 8u);
    EXPECT_EQ(c->kill_grace_ms, 3000);
    EXPECT_EQ(c->labels.at("role"), "web");
    EXPECT_EQ(c->controller_endpoint, "tcp://ctl:7420");
    EXPECT_EQ(c->controller_public_key, kKey);
}

TEST_F(AgentConfigTest, NameDefaultsToTheHostName) {
    auto c = load(std::string("[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_FALSE(c->name.empty());
}

TEST_F(AgentConfigTest, BadValuesNameFileKeyAndReason) {
    auto c = load(
        "[agent]\nname = \"bad name!\"\ncapacity = 0\nstate_dir = \"rel\"\n"
        "[agent.labels]\nrole = \"a,b\"\n[controller]\nendpoint = \"http://x\"\npublic_key = "
        "\"short\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": agent.name: must be 1-63 letters"), std::string::npos) << m;
    EXPECT_NE(m.find("agent.capacity: must be between 1 and 1024, not 0"), std::string::npos) << m;
    EXPECT_NE(m.find("agent.state_dir: must be an absolute path"), std::string::npos) << m;
    EXPECT_NE(m.find("agent.labels.role:"), std::string::npos) << m;
    EXPECT_NE(m.find("controller.endpoint: must be set to tcp://HOST:PORT"), std::string::npos)
        << m;
    EXPECT_NE(m.find("controller.public_key: must be the controller's CURVE public key"),
              std::string::npos)
        << m;
}

TEST_F(AgentConfigTest, UnknownKeysAreErrors) {
    auto c =
        load(std::string(
                 "[agent]\ncapasity = 4\n[controller]\nendpoint = \"tcp://c:1\"\npublic_key = \"") +
             kKey + "\"\n");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("agent.capasity: is not a known setting"), std::string::npos);
}

TEST_F(AgentConfigTest, AcceptsEverythingWhenAcceptIsAbsent) {
    auto c = load(std::string("[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(c->accept.adhoc);
    EXPECT_FALSE(c->accept.commands.has_value());
    EXPECT_FALSE(c->accept.script_hashes.has_value());
}

TEST_F(AgentConfigTest, ReadsTheAcceptTable) {
    const std::string upper(64, 'A');
    auto c = load(std::string("[agent.accept]\nadhoc = true\ncommands = [\"uptime\", "
                              "\"service-status\"]\nscript_hashes = [\"") +
                  upper + "\"]\n[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"" +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(c->accept.adhoc);
    EXPECT_EQ(c->accept.commands, (std::set<std::string>{"service-status", "uptime"}));
    // Hashes compare in lowercase, as the controller sends them.
    EXPECT_EQ(c->accept.script_hashes, (std::set<std::string>{std::string(64, 'a')}));
}

TEST_F(AgentConfigTest, NamingCommandsTurnsAdHocRunsOffUnlessSaidOtherwise) {
    auto c = load(std::string("[agent.accept]\ncommands = [\"uptime\"]\n[controller]\n"
                              "endpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_FALSE(c->accept.adhoc);
}

TEST_F(AgentConfigTest, BadAcceptValuesNameTheKey) {
    auto c = load(std::string("[agent.accept]\nadhoc = \"no\"\ncommands = [\"Restart Service\"]\n"
                              "script_hashes = [\"1f2e\"]\nshell = true\n[controller]\n"
                              "endpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": agent.accept.adhoc:"), std::string::npos) << m;
    EXPECT_NE(m.find("agent.accept.commands: 'Restart Service' is not a catalog command name"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("agent.accept.script_hashes: '1f2e' is not a SHA-256 in hex"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("agent.accept.shell"), std::string::npos) << m;
}

TEST_F(AgentConfigTest, AcceptListsMustBeArraysOfStrings) {
    auto c = load(std::string("[agent.accept]\ncommands = \"uptime\"\nscript_hashes = [1]\n"
                              "[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find("agent.accept.commands: must be an array of strings"), std::string::npos) << m;
    EXPECT_NE(m.find("agent.accept.script_hashes: must hold only strings"), std::string::npos) << m;
}

TEST_F(AgentConfigTest, SpoolLimitsAreReadAndCheckedAndDefaultToDocumentedValues) {
    auto defaults =
        load(std::string("[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"") + kKey +
             "\"\n");
    ASSERT_TRUE(defaults.ok()) << defaults.error().message;
    EXPECT_EQ(defaults->spool_max_bytes, std::uint64_t{256} << 20);
    EXPECT_EQ(defaults->spool_full_wait_ms, 60000);

    auto c = load(std::string("[agent]\nspool_max_bytes = 8388608\nspool_full_wait = \"5s\"\n"
                              "[controller]\nendpoint = \"tcp://ctl:7420\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->spool_max_bytes, 8388608u);
    EXPECT_EQ(c->spool_full_wait_ms, 5000);

    auto small = load(std::string("[agent]\nspool_max_bytes = 1000\n[controller]\nendpoint = "
                                  "\"tcp://ctl:7420\"\npublic_key = \"") +
                      kKey + "\"\n");
    ASSERT_FALSE(small.ok());
    EXPECT_NE(small.error().message.find("agent.spool_max_bytes: must be between 1048576"),
              std::string::npos)
        << small.error().message;
}

TEST_F(AgentConfigTest, ReadsTheLogSection) {
    auto c = load(std::string("[log]\nlevel = \"warn\"\n[log.modules]\nspool = \"debug\"\n"
                              "[controller]\nendpoint = \"tcp://c:1\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->log.level, "warn");
    EXPECT_EQ(c->log.modules.at("spool"), "debug");
    EXPECT_EQ(c->config_path, path_);
}

TEST_F(AgentConfigTest, AnUnknownLogModuleOrLevelNamesTheKey) {
    auto c = load(std::string("[log]\nlevel = \"chatty\"\n[log.modules]\nscheduler = \"debug\"\n"
                              "[controller]\nendpoint = \"tcp://c:1\"\npublic_key = \"") +
                  kKey + "\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": log.level: unknown log level 'chatty' (trace, debug, info, warn, "
                             "error, off)"),
              std::string::npos)
        << m;
    // The controller's scheduler is no agent module.
    EXPECT_NE(m.find(path_ + ": log.modules.scheduler: unknown log module 'scheduler' (agent, "
                             "spool, transport)"),
              std::string::npos)
        << m;
}

}  // namespace
}  // namespace hostline::agent
