// [log] in controller.toml: read at start by load_controller_config, and alone on SIGHUP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/log/log.hpp"
#include "common/log/log_config.hpp"
#include "controller/config/controller_config.hpp"

namespace hostline::controller {
namespace {

class LogConfigTest : public ::testing::Test {
  protected:
    Result<ControllerConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_controller_config(path_);
    }
    ~LogConfigTest() override {
        std::remove(path_.c_str());
        EXPECT_TRUE(log::setup("controller", "info").ok());
    }
    std::string path_ = "/tmp/hostline-log-config-test-" + std::to_string(::getpid()) + ".toml";
};

std::string level_of(const std::string& module) {
    for (const log::ModuleLevel& each : log::levels(log::Program::controller))
        if (each.module == module) return each.level;
    return "(not listed)";
}

TEST_F(LogConfigTest, ReadsTheLevelAndTheModulesLevels) {
    auto c =
        load("[log]\nlevel = \"warn\"\n[log.modules]\nscheduler = \"debug\"\nhttp = \"off\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->log.level, "warn");
    EXPECT_EQ(c->log.modules,
              (std::map<std::string, std::string>{{"http", "off"}, {"scheduler", "debug"}}));
    EXPECT_EQ(c->log.deprecation, "");
    log::apply(log::Program::controller, c->log);
    EXPECT_EQ(level_of("scheduler"), "debug");
    EXPECT_EQ(level_of("http"), "off");
    EXPECT_EQ(level_of("store"), "warn");
}

TEST_F(LogConfigTest, AnUnknownModuleIsAnErrorNamingTheKey) {
    auto c = load("[log.modules]\nsheduler = \"debug\"\nspool = \"debug\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": log.modules.sheduler: unknown log module 'sheduler' (transport, "
                             "controller, agents, scheduler,"),
              std::string::npos)
        << m;
    // The agent's spool is not the controller's.
    EXPECT_NE(m.find(path_ + ": log.modules.spool: unknown log module 'spool'"), std::string::npos)
        << m;
}

TEST_F(LogConfigTest, AnUnknownLevelIsAnErrorNamingTheKey) {
    auto c = load("[log]\nlevel = \"loud\"\n[log.modules]\nstore = \"verbose\"\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": log.level: unknown log level 'loud' (trace, debug, info, warn, "
                             "error, off)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(path_ + ": log.modules.store: unknown log level 'verbose'"), std::string::npos)
        << m;
}

TEST_F(LogConfigTest, AnUnknownKeyInLogIsAnError) {
    auto c = load("[log]\nlevels = \"info\"\n");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("log.levels: is not a known setting"), std::string::npos)
        << c.error().message;
}

TEST_F(LogConfigTest, TheDeprecatedControllerLogLevelStillWorksAndLogWins) {
    auto old = load("[controller]\nlog_level = \"debug\"\n");
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(old->log.level, "debug");
    EXPECT_EQ(old->log.deprecation, "controller.log_level is deprecated: use [log] level");
    auto both = load("[controller]\nlog_level = \"debug\"\n[log]\nlevel = \"warn\"\n");
    ASSERT_TRUE(both.ok()) << both.error().message;
    EXPECT_EQ(both->log.level, "warn");
    EXPECT_NE(both->log.deprecation.find("which is set and wins"), std::string::npos);
}

TEST_F(LogConfigTest, ReloadAppliesTheFileAndSaysWhatChanged) {
    std::ofstream(path_) << "[http]\nport = 1\n[log]\nlevel = \"info\"\n[log.modules]\n"
                            "scheduler = \"debug\"\n";
    auto changed = log::reload(log::Program::controller, path_, "controller.log_level", "");
    ASSERT_TRUE(changed.ok()) << changed.error().message;
    EXPECT_EQ(*changed, "scheduler: info -> debug");
    changed = log::reload(log::Program::controller, path_, "controller.log_level", "");
    ASSERT_TRUE(changed.ok()) << changed.error().message;
    EXPECT_EQ(*changed, "no level changed");
}

TEST_F(LogConfigTest, OnReloadTheCommandLinesLevelStandsInForAnAbsentLevel) {
    std::ofstream(path_) << "[log.modules]\nstore = \"debug\"\n";
    auto changed = log::reload(log::Program::controller, path_, "", "error");
    ASSERT_TRUE(changed.ok()) << changed.error().message;
    EXPECT_EQ(level_of("scheduler"), "error");
    EXPECT_EQ(level_of("store"), "debug");
    // The file's own level wins: SIGHUP applies the file as written.
    std::ofstream(path_) << "[log]\nlevel = \"warn\"\n";
    ASSERT_TRUE(log::reload(log::Program::controller, path_, "", "error").ok());
    EXPECT_EQ(level_of("scheduler"), "warn");
    EXPECT_EQ(level_of("store"), "warn");
}

TEST_F(LogConfigTest, AnInvalidFileOnReloadChangesNothingAndSaysWhy) {
    ASSERT_TRUE(log::set_level(log::Program::controller, "scheduler", "debug").ok());
    std::ofstream(path_) << "[log]\nlevel = \"warn\"\nmodules = { schedular = \"info\" }\n";
    auto changed = log::reload(log::Program::controller, path_, "", "");
    ASSERT_FALSE(changed.ok());
    EXPECT_NE(changed.error().message.find("log.modules.schedular: unknown log module"),
              std::string::npos)
        << changed.error().message;
    EXPECT_EQ(level_of("scheduler"), "debug");
    EXPECT_EQ(level_of("store"), "info");
}

}  // namespace
}  // namespace hostline::controller
