// `hostline dev`: a controller and local agents that work at once and stop together.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

std::string bin(const std::string& name) {
    const char* dir = std::getenv("HOSTLINE_BIN_DIR");
    return std::string(dir ? dir : ".") + "/" + name;
}

// Pids of live processes whose command line mentions text.
std::vector<pid_t> processes_mentioning(const std::string& text) {
    std::vector<pid_t> pids;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        pid_t pid = std::stoi(name);
        if (cmdline.find(text) != std::string::npos && process_alive(pid)) pids.push_back(pid);
    }
    return pids;
}

std::map<std::string, std::string> read_env(const std::string& path) {
    std::map<std::string, std::string> env;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("export ", 0) == 0) line = line.substr(7);
        auto eq = line.find('=');
        if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return env;
}

TEST(Dev, StartsAControllerAndAgentsThatRunJobsAndStopsThemAllOnSigterm) {
    char tmpl[] = "/tmp/hostline-dev-test-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string data = dir + "/data";
    // Its standard input stays open (a FIFO the test holds) so the terminal chat keeps running.
    std::string fifo = dir + "/stdin";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int keep_open = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    pid_t dev = start_process({bin("hostline"), "dev", "--agents", "3", "--data", data},
                              dir + "/dev.log", fifo);

    std::map<std::string, std::string> env;
    for (int i = 0; i < 300 && env.count("HOSTLINE_TOKEN_FILE") == 0; ++i) {
        std::this_thread::sleep_for(100ms);
        env = read_env(data + "/env");
    }
    ASSERT_EQ(env.count("HOSTLINE_CONTROLLER"), 1u) << "no env file was written";
    ASSERT_EQ(env.count("HOSTLINE_TOKEN_FILE"), 1u);
    EXPECT_NE(env["PATH"].find(std::filesystem::path(bin("hostline")).parent_path().string()),
              std::string::npos);
    std::vector<std::string> cli{bin("hostline"), "--controller", env["HOSTLINE_CONTROLLER"],
                                 "--token-file", env["HOSTLINE_TOKEN_FILE"]};
    auto hostline = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = cli;
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    };

    bool online = false;
    for (int i = 0; i < 300 && !online; ++i) {
        auto agents = nlohmann::json::parse(hostline({"agents", "--json"}).out, nullptr, false);
        int count = 0;
        if (agents.is_object())
            for (const auto& a : agents["agents"]) count += a.value("online", false) ? 1 : 0;
        online = count == 3;
        if (!online) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(online) << "local-1..3 did not come online";

    // The labels it gives make targets work: odd agents are role=web.
    CommandResult run =
        hostline({"run", "--on", "role=web", "--", "sh", "-c", "echo on $HOSTLINE_AGENT"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("local-1 | on local-1"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("local-3 | on local-3"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("local-2"), std::string::npos) << run.out;

    std::ifstream dev_log(dir + "/dev.log");
    std::stringstream printed;
    printed << dev_log.rdbuf();
    EXPECT_NE(printed.str().find(". " + data + "/env"), std::string::npos) << printed.str();

    EXPECT_FALSE(processes_mentioning(data).empty());
    ::kill(dev, SIGTERM);
    int status = 0;
    ::waitpid(dev, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_TRUE(processes_mentioning(data).empty()) << "hostline dev left processes behind";
    ::close(keep_open);
    std::filesystem::remove_all(dir);
}

TEST(Dev, PipedCommandsAreAnsweredThenEverythingStops) {
    char tmpl[] = "/tmp/hostline-dev-test-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string data = dir + "/data";
    std::ofstream(dir + "/script")
        << "!hosts\n"
           "!run --on local-1 -- sh -c 'echo hi from $HOSTLINE_AGENT'\n"
           "!nonsense\n"
           "!who-is-logged-in --on local-2\n"
           "!run --on local-2 -- sh -c 'sleep 1; echo done'";  // no newline
    CommandResult r = run_command({bin("hostline"), "dev", "--agents", "2", "--data", data,
                                   "--catalog", HOSTLINE_SOURCE_DIR "/examples/commands.d"},
                                  std::chrono::seconds(90), dir + "/script");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("2 host(s), 2 online"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("job #1 succeeded"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("local-1 | hi from local-1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unknown command 'nonsense': try !help"), std::string::npos) << r.out;
    // A catalog command backed by a script: the agent ran its private copy of it.
    EXPECT_NE(r.out.find("job #2 succeeded"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("session(s) in total on"), std::string::npos) << r.out;
    // At the end of input it waits for the job it started and prints its summary.
    EXPECT_NE(r.out.find("local-2 | done"), std::string::npos) << r.out;
    EXPECT_TRUE(processes_mentioning(data).empty()) << "hostline dev left processes behind";
    std::filesystem::remove_all(dir);
}

TEST(Dev, AJobDoesNotHoldUpTheNextLineAndEverySummaryIsPrintedBeforeItExits) {
    char tmpl[] = "/tmp/hostline-dev-test-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string data = dir + "/data";
    std::ofstream(dir + "/script") << "!run --on local-1 -- sleep 3\n"
                                      "!run --on local-2 -- echo quick\n";
    CommandResult r = run_command({bin("hostline"), "dev", "--agents", "2", "--data", data},
                                  std::chrono::seconds(90), dir + "/script");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string& out = r.out;
    auto at = [&](const std::string& text) { return out.find(text); };
    const auto npos = std::string::npos;
    ASSERT_NE(at("job #1 on 1 host(s): local-1"), npos) << out;
    ASSERT_NE(at("job #2 on 1 host(s): local-2"), npos) << out;
    ASSERT_NE(at("job #1 succeeded"), npos) << out;
    ASSERT_NE(at("job #2 succeeded"), npos) << out;
    // The second line was sent while the sleep ran: both acks come before any summary, and
    // the quick job is summed up first.
    EXPECT_LT(at("job #2 on"), at("job #2 succeeded")) << out;
    EXPECT_LT(at("job #2 on"), at("job #1 succeeded")) << out;
    EXPECT_LT(at("job #2 succeeded"), at("job #1 succeeded")) << out;
    EXPECT_NE(at("local-2 | quick"), npos) << out;
    // It waited for the sleep at the end of input, then stopped everything.
    EXPECT_LT(at("job #1 succeeded"), at("stopped.")) << out;
    EXPECT_TRUE(processes_mentioning(data).empty()) << "hostline dev left processes behind";
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hostline::testing
