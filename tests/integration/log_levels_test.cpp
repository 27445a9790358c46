// Log levels per module, changed at runtime on the real daemons: `hostline log-level` on the
// controller, SIGHUP with a new [log] section on the controller and on an agent. What is
// checked is what an operator reads: the daemons' stderr.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

// Lines of text at level (" debug", " info ") from module ("scheduler").
std::size_t count_lines(const std::string& text, const std::string& level,
                        const std::string& module) {
    std::istringstream lines(text);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);)
        if (line.find(" " + level + " ") != std::string::npos &&
            line.find(" " + module + ": ") != std::string::npos)
            ++n;
    return n;
}

std::size_t count_level(const std::string& text, const std::string& level) {
    std::istringstream lines(text);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);)
        if (line.find(" " + level + " ") != std::string::npos) ++n;
    return n;
}

void append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app) << text;
}

class LogLevelsEndToEnd : public ClusterTest {
  protected:
    void SetUp() override { cluster.set_log_level("info"); }
    std::string level_of(const std::string& module) {
        auto listed = cluster.try_cli_json({"log-level"});
        for (const auto& each : listed.value("modules", nlohmann::json::array()))
            if (each["module"] == module) return each["level"].get<std::string>();
        return "(not listed)";
    }
    // Waits (a signal is handled on the daemon's own loop) until the module has the level.
    bool wait_level(const std::string& module, const std::string& level) {
        for (auto end = std::chrono::steady_clock::now() + 15s;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms))
            if (level_of(module) == level) return true;
        return false;
    }
    template <typename Pred>
    bool wait_until(Pred pred) {
        for (auto end = std::chrono::steady_clock::now() + 15s;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms))
            if (pred()) return true;
        return false;
    }
};

TEST_F(LogLevelsEndToEnd, TheCliTurnsOneControllerModuleUpAndSighupAppliesTheFileAgain) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});

    CommandResult set = cluster.cli({"log-level", "scheduler", "debug"});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    EXPECT_EQ(set.out, "scheduler: debug (until the next SIGHUP or restart)\n");
    CommandResult listed = cluster.cli({"log-level"});
    EXPECT_NE(listed.out.find("scheduler   debug"), std::string::npos) << listed.out;

    ASSERT_EQ(cluster.cli({"run", "--on", "web-1", "--", "echo", "one"}).exit_code, 0);
    // The scheduler's debug line is there; the HTTP server's (each request, at debug) are not.
    ASSERT_TRUE(wait_until([&] {
        return count_lines(cluster.controller_log(), "debug", "scheduler") > 0;
    })) << cluster.controller_log();
    EXPECT_NE(
        cluster.controller_log().find("scheduler: job #1: run 1 (attempt 1) sent to agent web-1"),
        std::string::npos);
    EXPECT_EQ(count_lines(cluster.controller_log(), "debug", "http"), 0u);

    // SIGHUP with [log] level = "warn": every module, the scheduler too, goes to warn.
    append(cluster.dir() + "/controller.toml", "\n[log]\nlevel = \"warn\"\n");
    cluster.signal_controller(SIGHUP);
    ASSERT_TRUE(wait_level("scheduler", "warn"));
    ASSERT_TRUE(wait_level("http", "warn"));
    const std::size_t before = cluster.controller_log().size();
    ASSERT_EQ(cluster.cli({"run", "--on", "web-1", "--", "echo", "two"}).exit_code, 0);
    std::this_thread::sleep_for(300ms);  // what the job's end would log
    const std::string after = cluster.controller_log().substr(before);
    EXPECT_EQ(count_level(after, "info"), 0u) << after;
    EXPECT_EQ(count_level(after, "debug"), 0u) << after;
    EXPECT_EQ(cluster.cli_json({"job", "2"})["job"]["state"], "succeeded");
}

TEST_F(LogLevelsEndToEnd, AControllerSighupWithABadLogSectionKeepsTheLevelsAndSaysWhy) {
    cluster.start_controller();
    ASSERT_EQ(cluster.cli({"log-level", "store", "debug"}).exit_code, 0);
    append(cluster.dir() + "/controller.toml", "\n[log.modules]\nsheduler = \"debug\"\n");
    cluster.signal_controller(SIGHUP);
    ASSERT_TRUE(wait_until([&] {
        return cluster.controller_log().find("log levels unchanged") != std::string::npos;
    })) << cluster.controller_log();
    EXPECT_NE(cluster.controller_log().find("log.modules.sheduler: unknown log module 'sheduler'"),
              std::string::npos);
    EXPECT_EQ(level_of("store"), "debug");
    EXPECT_EQ(level_of("scheduler"), "info");
}

TEST_F(LogLevelsEndToEnd, AnAgentSighupAppliesItsNewLogSection) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    const std::string config = cluster.dir() + "/agents/web-1.toml";
    ASSERT_EQ(cluster.cli({"run", "--on", "web-1", "--", "echo", "one"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] {
        return cluster.agent_log("web-1").find("agent: run 1 (job 1) started") != std::string::npos;
    })) << cluster.agent_log("web-1");

    // A bad [log]: refused, said so, nothing changes.
    append(config, "\n[log]\nlevel = \"loud\"\n");
    cluster.signal_agent("web-1", SIGHUP);
    ASSERT_TRUE(wait_until([&] {
        return cluster.agent_log("web-1").find("log levels unchanged") != std::string::npos;
    })) << cluster.agent_log("web-1");
    EXPECT_NE(cluster.agent_log("web-1").find("log.level: unknown log level 'loud'"),
              std::string::npos);
    ASSERT_EQ(cluster.cli({"run", "--on", "web-1", "--", "echo", "two"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] {
        return cluster.agent_log("web-1").find("agent: run 2 (job 2) started") != std::string::npos;
    })) << cluster.agent_log("web-1");

    // warn for every module but the agent's own: the reload says what changed.
    std::string text;
    {
        std::ifstream in(config);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    text.replace(text.find("level = \"loud\""), 14,
                 "level = \"warn\"\n[log.modules]\nagent = \"info\"");
    std::ofstream(config, std::ios::trunc) << text;
    cluster.signal_agent("web-1", SIGHUP);
    ASSERT_TRUE(wait_until([&] {
        return cluster.agent_log("web-1").find(
                   "log levels reloaded: spool: info -> warn; transport: info -> warn") !=
               std::string::npos;
    })) << cluster.agent_log("web-1");

    // The same file, the agent's module at warn too: its run lines stop.
    text.replace(text.find("agent = \"info\""), 14, "agent = \"warn\"");
    std::ofstream(config, std::ios::trunc) << text;
    cluster.signal_agent("web-1", SIGHUP);
    // Sent before the run, the signal is read first: the run's lines are at the new level.
    ASSERT_EQ(cluster.cli({"run", "--on", "web-1", "--", "echo", "three"}).exit_code, 0);
    std::this_thread::sleep_for(500ms);
    const std::string log = cluster.agent_log("web-1");
    EXPECT_EQ(log.find("run 3 (job 3) started"), std::string::npos) << log;
    EXPECT_EQ(log.find("run 3 finished"), std::string::npos) << log;
    EXPECT_EQ(cluster.cli_json({"job", "3"})["job"]["state"], "succeeded");
}

}  // namespace
}  // namespace hostline::testing
