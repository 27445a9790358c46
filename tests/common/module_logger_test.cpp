// Module loggers (common/log): one level per module, one sink for all, names checked.
#include "common/log/module_logger.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <sstream>

#include "common/log/log.hpp"

namespace hostline::log {
namespace {

constinit ModuleLogger scheduler_log{"scheduler"};
constinit ModuleLogger store_log{"store"};
constinit ModuleLogger spool_log{"spool"};

// Every module's lines, into a string; back to stderr and info afterwards.
class ModuleLoggerTest : public ::testing::Test {
  protected:
    ModuleLoggerTest() { use_sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)); }
    ~ModuleLoggerTest() override { EXPECT_TRUE(setup("test", "info").ok()); }
    std::string text() const { return text_.str(); }

  private:
    std::ostringstream text_;
};

std::string level_of(Program program, const std::string& module) {
    for (const ModuleLevel& each : levels(program))
        if (each.module == module) return each.level;
    return "(not listed)";
}

TEST_F(ModuleLoggerTest, EachModuleHasItsOwnLevel) {
    auto before = set_level(Program::controller, "scheduler", "debug");
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(*before, "info");
    ASSERT_TRUE(set_level(Program::controller, "store", "warn").ok());
    EXPECT_EQ(level_of(Program::controller, "scheduler"), "debug");
    EXPECT_EQ(level_of(Program::controller, "store"), "warn");
    EXPECT_EQ(level_of(Program::controller, "http"), "info");
}

TEST_F(ModuleLoggerTest, ALineIsWrittenOnlyAtItsModulesLevel) {
    ASSERT_TRUE(set_level(Program::controller, "scheduler", "debug").ok());
    ASSERT_TRUE(set_level(Program::controller, "store", "warn").ok());
    scheduler_log->debug("job 7 queued");
    store_log->debug("a statement");
    store_log->info("opened the database");
    store_log->warn("the disk is nearly full");
    const std::string all = text();
    EXPECT_NE(all.find("scheduler: job 7 queued"), std::string::npos) << all;
    EXPECT_EQ(all.find("a statement"), std::string::npos) << all;
    EXPECT_EQ(all.find("opened the database"), std::string::npos) << all;
    EXPECT_NE(all.find("store: the disk is nearly full"), std::string::npos) << all;
}

TEST_F(ModuleLoggerTest, EveryModuleWritesIntoTheOneSinkNamingItself) {
    scheduler_log->info("from the scheduler");
    spool_log->info("from the spool");
    const std::string all = text();
    EXPECT_NE(all.find(" info  scheduler: from the scheduler\n"), std::string::npos) << all;
    EXPECT_NE(all.find(" info  spool: from the spool\n"), std::string::npos) << all;
}

TEST_F(ModuleLoggerTest, AnUnknownModuleIsRefusedWithTheProgramsModules) {
    auto refused = set_level(Program::agent, "scheduler", "debug");  // a controller module
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "unknown log module 'scheduler' (agent, spool, transport)");
    EXPECT_EQ(level_of(Program::controller, "scheduler"), "info");
    EXPECT_FALSE(set_level(Program::controller, "sheduler", "debug").ok());
}

TEST_F(ModuleLoggerTest, AnUnknownLevelIsRefusedWithTheLevels) {
    auto refused = set_level(Program::controller, "scheduler", "verbose");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message,
              "unknown log level 'verbose' (trace, debug, info, warn, error, off)");
    EXPECT_EQ(level_of(Program::controller, "scheduler"), "info");
    EXPECT_FALSE(setup("controller", "loud").ok());
}

TEST_F(ModuleLoggerTest, LevelsListOnlyTheProgramsModules) {
    std::string agent;
    for (const ModuleLevel& each : levels(Program::agent)) agent += each.module + " ";
    EXPECT_EQ(agent, "agent spool transport ");
    EXPECT_EQ(level_of(Program::controller, "spool"), "(not listed)");
    EXPECT_EQ(level_of(Program::controller, "transport"), "info");
}

// In a fresh process (threadsafe death tests re-run the binary): no setup, no sink set.
TEST(ModuleLoggerBeforeSetup, LinesGoToStderrAtInfo) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            scheduler_log->debug("not at info");
            scheduler_log->info("logged before setup");
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "info  scheduler: logged before setup\n$");
}

}  // namespace
}  // namespace hostline::log
