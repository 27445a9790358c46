// End to end: the real controller, real agents and the real CLI on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Each test gets its own cluster; when a test fails, every log is printed and the directory kept.
class Fleet : public ClusterTest {
  protected:
    // How a job's output rows are stored: rows, rows LZ4-compressed, the bytes they stand for,
    // the bytes stored, the largest stored row (sqlite3 on the controller's database).
    struct StoredOutput {
        long rows = 0, compressed = 0, size = 0, stored = 0, largest = 0;
    };
    StoredOutput stored_output(long job_id) {
        const CommandResult result = run_sql(
            cluster.database(),
            "SELECT count(*), total(encoding = 'lz4'), total(iif(encoding = '', length(data), "
            "size)), total(length(data)), max(length(data)) FROM output o JOIN runs r ON "
            "o.run_id = r.id WHERE r.job_id = " +
                std::to_string(job_id));
        EXPECT_EQ(result.exit_code, 0) << result.err;
        StoredOutput out;
        std::string line = result.out;
        std::replace(line.begin(), line.end(), '|', ' ');
        std::istringstream fields(line);
        double compressed = 0, size = 0, stored = 0;
        fields >> out.rows >> compressed >> size >> stored >> out.largest;
        out.compressed = static_cast<long>(compressed);
        out.size = static_cast<long>(size);
        out.stored = static_cast<long>(stored);
        return out;
    }

    // A controller and one agent, a1, which runs `seq 1 N`: the job's id.
    long seq_on_a1(int n) {
        cluster.start_controller();
        cluster.add_agent("a1");
        cluster.wait_online({"a1"});
        int exit_code = -1;
        json doc = cluster.cli_json({"run", "--on", "a1", "--", "seq", "1", std::to_string(n)},
                                    &exit_code);
        EXPECT_EQ(exit_code, 0) << doc.dump().substr(0, 2000);
        return doc["job"].value("id", 0L);
    }

    // The download of a job's output on a host, as curl gets it.
    CommandResult download(long job_id, const std::string& host) {
        return run_command({"/usr/bin/curl", "-sS", "--fail", "-H",
                            "Authorization: Bearer " + cluster.admin_secret(),
                            cluster.http_url() + "/api/v1/jobs/" + std::to_string(job_id) +
                                "/output/download?host=" + host});
    }
};

const json& run_on(const json& doc, const std::string& agent) {
    for (const json& run : doc.at("runs"))
        if (run.at("agent") == agent) return run;
    static const json none;
    ADD_FAILURE() << "no run on " << agent << " in " << doc.dump();
    return none;
}

bool job_final(const json& doc) {
    static const std::set<std::string> kFinal{"succeeded", "failed", "partial", "timed_out",
                                              "cancelled", "denied", "expired"};
    return doc.contains("job") && kFinal.count(doc["job"].value("state", "")) > 0;
}

TEST_F(Fleet, JobOnThreeAgentsReturnsEachHostsOutputAndExitCode) {
    cluster.start_controller();
    for (const char* name : {"web-1", "web-2", "db-1"})
        cluster.add_agent(name, {.labels = {{"role", name[0] == 'w' ? "web" : "db"}}});
    cluster.wait_online({"web-1", "web-2", "db-1"});

    int exit_code = -1;
    json doc = cluster.cli_json({"run", "--on", "*", "--", "sh", "-c",
                                 "echo \"hello from $HOSTLINE_AGENT\"; echo oops >&2; exit 3"},
                                &exit_code);
    EXPECT_EQ(exit_code, 1) << "a failed run makes `hostline run` fail";
    EXPECT_EQ(doc["job"]["state"], "failed");
    ASSERT_EQ(doc["runs"].size(), 3u);
    for (const char* name : {"web-1", "web-2", "db-1"}) {
        const json& run = run_on(doc, name);
        EXPECT_EQ(run["state"], "failed");
        EXPECT_EQ(run["exit_code"], 3);
        std::string output = run.value("output", "");
        EXPECT_NE(output.find(std::string("hello from ") + name), std::string::npos) << output;
        EXPECT_NE(output.find("oops"), std::string::npos) << output;
    }

    // The same through the streaming view a person reads: prefixed lines and a summary.
    // Host lines go to stdout; the header and the per-host summary to stderr.
    CommandResult human = cluster.cli({"run", "--on", "role=web", "--", "echo", "hi there"});
    EXPECT_EQ(human.exit_code, 0) << human.err;
    EXPECT_NE(human.out.find("web-1 | hi there"), std::string::npos) << human.out;
    EXPECT_NE(human.out.find("web-2 | hi there"), std::string::npos) << human.out;
    EXPECT_EQ(human.out.find("db-1"), std::string::npos) << "db-1 is not role=web";
    EXPECT_NE(human.err.find("2 succeeded"), std::string::npos) << human.err;

    // And it is in the history.
    json jobs = cluster.cli_json({"jobs"});
    ASSERT_EQ(jobs["jobs"].size(), 2u);
    EXPECT_EQ(jobs["jobs"][0]["state"], "succeeded");
    EXPECT_EQ(jobs["jobs"][1]["state"], "failed");
}

TEST_F(Fleet, TimeoutKillsAWholeProcessTreeIncludingAChildThatIgnoresSigterm) {
    cluster.start_controller();
    cluster.add_agent("a1", {.kill_grace = "1s"});
    cluster.wait_online({"a1"});

    std::string pid_file = cluster.dir() + "/child.pid";
    int exit_code = -1;
    json doc = cluster.cli_json(
        {"run", "--on", "a1", "--timeout", "1s", "--", "sh", "-c",
         "sh -c 'trap \"\" TERM; echo $$ > " + pid_file + "; while :; do sleep 0.1; done' & wait"},
        &exit_code);
    EXPECT_EQ(exit_code, 1);
    EXPECT_EQ(doc["job"]["state"], "timed_out");
    EXPECT_EQ(run_on(doc, "a1")["state"], "timed_out");

    std::ifstream in(pid_file);
    pid_t child = 0;
    ASSERT_TRUE(in >> child) << "the child never started";
    // The SIGKILL that follows the grace period reaches the child that ignored SIGTERM.
    for (int i = 0; i < 50 && process_alive(child); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(process_alive(child)) << "pid " << child << " survived the timeout";
}

TEST_F(Fleet, CancelStopsARunningSleepOnEveryHostWithinASecond) {
    cluster.start_controller();
    for (const char* name : {"a1", "a2", "a3"}) cluster.add_agent(name);
    cluster.wait_online({"a1", "a2", "a3"});

    pid_t run = cluster.cli_background({"run", "--on", "a*", "--", "sleep", "600"},
                                       cluster.dir() + "/run.log");
    long job_id = 0;
    for (int i = 0; i < 100 && job_id == 0; ++i) {
        json jobs = cluster.cli_json({"jobs"});
        if (!jobs["jobs"].empty()) job_id = jobs["jobs"][0]["id"];
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(job_id, 0);
    json doc = cluster.wait_job(job_id, [](const json& d) {
        for (const json& r : d["runs"])
            if (r["state"] != "running") return false;
        return d["runs"].size() == 3;
    });
    ASSERT_EQ(doc["runs"].size(), 3u);

    std::int64_t cancelled_at = now_ms();
    CommandResult cancel = cluster.cli({"cancel", std::to_string(job_id)});
    EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
    doc = cluster.wait_job(job_id, job_final);
    EXPECT_EQ(doc["job"]["state"], "cancelled");
    for (const json& r : doc["runs"]) {
        EXPECT_EQ(r["state"], "cancelled");
        std::int64_t ended = r.value("ended_at_ms", std::int64_t{0});
        EXPECT_LT(ended - cancelled_at, 1000)
            << r["agent"] << " stopped " << (ended - cancelled_at) << " ms after cancel";
    }
    int status = 0;
    ::waitpid(run, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 1) << "the watching `hostline run` reports the cancelled job";
}

TEST_F(Fleet, OfflineAgentShowsAsSkipped) {
    cluster.start_controller();
    cluster.add_agent("up");
    cluster.add_agent("down");
    cluster.wait_online({"up", "down"});
    cluster.stop_agent("down");
    for (int i = 0; i < 50; ++i) {
        json agents = cluster.cli_json({"agents"});
        bool down_offline = false;
        for (const json& a : agents["agents"])
            if (a["name"] == "down" && !a["online"].get<bool>()) down_offline = true;
        if (down_offline) break;
        std::this_thread::sleep_for(100ms);
    }

    int exit_code = -1;
    json doc = cluster.cli_json({"run", "--on", "up,down", "--", "true"}, &exit_code);
    EXPECT_EQ(exit_code, 1) << "not every host ran it";
    EXPECT_EQ(doc["offline"], json::array({"down"}));
    EXPECT_EQ(run_on(doc, "up")["state"], "succeeded");
    EXPECT_EQ(run_on(doc, "down")["state"], "skipped");
    EXPECT_EQ(doc["job"]["state"], "partial");

    CommandResult human = cluster.cli({"run", "--on", "up,down", "--", "true"});
    EXPECT_NE(human.err.find("offline (skipped): down"), std::string::npos) << human.err;
    EXPECT_NE(human.err.find("skipped"), std::string::npos) << human.err;
}

TEST_F(Fleet, ControllerKilledAndRestartedKeepsFinishedJobsAndReconcilesRunningOnes) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.add_agent("a2");
    cluster.wait_online({"a1", "a2"});

    json finished = cluster.cli_json({"run", "--on", "a1", "--", "echo", "before the crash"});
    long finished_id = finished["job"]["id"];
    ASSERT_EQ(finished["job"]["state"], "succeeded");

    pid_t run = cluster.cli_background({"run", "--on", "a*", "--", "sh", "-c",
                                        "echo started; sleep 3; echo finished on $HOSTLINE_AGENT"},
                                       cluster.dir() + "/run.log");
    long running_id = finished_id + 1;
    cluster.wait_job(running_id, [](const json& d) {
        int running = 0;
        for (const json& r : d.value("runs", json::array())) running += r["state"] == "running";
        return running == 2;
    });
    cluster.kill_controller();
    cluster.start_controller();
    // The watching `hostline run` rides out the restart and reports the whole job.
    int status = 0;
    ::waitpid(run, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::ifstream run_log(cluster.dir() + "/run.log");
    std::string watched((std::istreambuf_iterator<char>(run_log)),
                        std::istreambuf_iterator<char>());
    EXPECT_NE(watched.find("finished on a1"), std::string::npos) << watched;

    json before = cluster.cli_json({"job", std::to_string(finished_id), "--output"});
    EXPECT_EQ(before["job"]["state"], "succeeded");
    json doc = cluster.wait_job(running_id, job_final, 30s);
    EXPECT_EQ(doc["job"]["state"], "succeeded") << doc.dump();
    json output = cluster.cli_json({"job", std::to_string(running_id), "--output"});
    std::string text = output.dump();
    EXPECT_NE(text.find("finished on a1"), std::string::npos) << text;
    EXPECT_NE(text.find("finished on a2"), std::string::npos) << text;
    EXPECT_NE(cluster.cli_json({"job", std::to_string(finished_id), "--output"})
                  .dump()
                  .find("before the crash"),
              std::string::npos);
}

TEST_F(Fleet, SigtermStopsTheControllerCleanlyAndItsJobsGoOnAfterTheRestart) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});
    json submitted = cluster.post_api(
        "/api/v1/jobs", {{"target", "a1"}, {"argv", {"sh", "-c", "echo one; sleep 3; echo two"}}});
    long id = submitted["job"];
    cluster.wait_job(id, [](const json& d) {
        for (const json& r : d.value("runs", json::array()))
            if (r["state"] == "running") return true;
        return false;
    });
    int status = cluster.stop_controller();
    // A clean stop is exit 0 (systemd's Restart=on-failure leaves it stopped), after telling
    // the agent, which keeps its run going and its output spooled.
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(cluster.controller_log().find("stopped"), std::string::npos);
    EXPECT_NE(cluster.agent_log("a1").find("controller is going away: controller stopping"),
              std::string::npos)
        << cluster.agent_log("a1");
    cluster.start_controller();
    json doc = cluster.wait_job(id, job_final, 30s);
    EXPECT_EQ(doc["job"]["state"], "succeeded") << doc.dump();
    json output = cluster.cli_json({"job", std::to_string(id), "--output"});
    std::string text;
    for (const json& chunk : output["output"]) text += chunk["data"].get<std::string>();
    EXPECT_EQ(text, "one\ntwo\n");
}

TEST_F(Fleet, RunAsUserDropsPrivilegesOnTheAgent) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});
    int exit_code = -1;
    if (::geteuid() != 0) {
        // Only a root agent may switch users; any other says so.
        json refused =
            cluster.cli_json({"run", "--on", "a1", "--user", "root", "--", "id"}, &exit_code);
        EXPECT_EQ(exit_code, 1);
        EXPECT_NE(run_on(refused, "a1").value("error", "").find("the agent is not running as root"),
                  std::string::npos);
        return;
    }

    // A numeric uid works like a name.
    json by_uid =
        cluster.cli_json({"run", "--on", "a1", "--user", "65534", "--", "id", "-u"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << by_uid.dump();
    EXPECT_EQ(run_on(by_uid, "a1")["output"], "65534\n");

    json doc =
        cluster.cli_json({"run", "--on", "a1", "--user", "nobody", "--", "id", "-un"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << doc.dump();
    EXPECT_EQ(doc["job"]["state"], "succeeded");
    EXPECT_EQ(doc["job"]["user"], "nobody");
    EXPECT_EQ(run_on(doc, "a1")["output"], "nobody\n");

    CommandResult shown = cluster.cli({"job", std::to_string(doc["job"]["id"].get<long>())});
    EXPECT_NE(shown.out.find("run as     nobody\n"), std::string::npos) << shown.out;

    json unknown = cluster.cli_json(
        {"run", "--on", "a1", "--user", "no-such-user-xyz", "--", "id", "-un"}, &exit_code);
    EXPECT_EQ(exit_code, 1);
    EXPECT_EQ(unknown["job"]["state"], "failed");
    const json& failed = run_on(unknown, "a1");
    EXPECT_EQ(failed["state"], "failed");
    EXPECT_NE(failed.value("error", "").find("no-such-user-xyz"), std::string::npos)
        << failed.dump();
}

// A download is the run's output byte for byte: 2.7 MB in chunks of up to 64 KiB, streamed
// in 1 MiB pieces that begin and end inside chunks, each piece resumed where the last ended.
TEST_F(Fleet, AnOutputDownloadIsTheRunsWholeOutputByteForByte) {
    const long id = seq_on_a1(400000);
    const CommandResult expected = run_command({"/usr/bin/seq", "1", "400000"});
    ASSERT_EQ(expected.out.size(), 2'688'895u);
    const CommandResult got = download(id, "a1");
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.out.size(), expected.out.size());
    EXPECT_TRUE(got.out == expected.out) << "the download differs from the run's output";
    // The agent sent it LZ4-compressed (the controller's welcome said it takes that), and the
    // store keeps it so.
    const StoredOutput rows = stored_output(id);
    EXPECT_EQ(rows.size, 2'688'895);
    EXPECT_GE(rows.compressed, 1) << rows.rows << " rows, none compressed";
    EXPECT_LT(rows.stored, rows.size * 4 / 5) << "stored compressed (seq's lines shrink ~3:5)";
}

// A controller with compress_output = false is sent output as it was written, in messages of
// at most 64 KiB, and stores it so.
TEST_F(Fleet, AControllerThatDoesNotTakeCompressedOutputIsSentItAsWritten) {
    cluster.set_compress_output(false);
    const long id = seq_on_a1(400000);
    const CommandResult got = download(id, "a1");
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_TRUE(got.out == run_command({"/usr/bin/seq", "1", "400000"}).out);
    const StoredOutput rows = stored_output(id);
    EXPECT_EQ(rows.compressed, 0);
    EXPECT_EQ(rows.size, 2'688'895);
    EXPECT_EQ(rows.stored, rows.size);
    EXPECT_LE(rows.largest, 65536);
    EXPECT_GE(rows.rows, 42) << "2.7 MB in messages of 64 KiB";
}

// Output the agent spooled compressed while its controller was away goes to a controller
// that no longer takes compressed output (an earlier release, or compress_output turned off)
// as it was written, byte for byte.
TEST_F(Fleet, OutputSpooledCompressedReachesAControllerThatTakesItOnlyAsWrittenWhole) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});
    const std::string done_file = cluster.dir() + "/seq-done";
    json submitted = cluster.post_api(
        "/api/v1/jobs",
        {{"target", "a1"}, {"argv", {"sh", "-c", "sleep 1; seq 1 300000; touch " + done_file}}});
    const long id = submitted["job"];
    cluster.wait_job(id, [](const json& d) {
        for (const json& r : d.value("runs", json::array()))
            if (r["state"] == "running") return true;
        return false;
    });
    ASSERT_EQ(WEXITSTATUS(cluster.stop_controller()), 0);
    // All of it is written, and spooled, while no controller is there.
    for (int i = 0; i < 200 && !std::filesystem::exists(done_file); ++i)
        std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(std::filesystem::exists(done_file)) << "the run did not finish writing";
    cluster.set_compress_output(false);
    cluster.start_controller();
    json doc = cluster.wait_job(id, job_final, 30s);
    EXPECT_EQ(doc["job"]["state"], "succeeded") << doc.dump().substr(0, 2000);
    const CommandResult got = download(id, "a1");
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_TRUE(got.out == run_command({"/usr/bin/seq", "1", "300000"}).out);
    const StoredOutput rows = stored_output(id);
    EXPECT_EQ(rows.compressed, 0) << "the agent decompressed what it had spooled compressed";
    EXPECT_EQ(rows.size, 1'988'895);
}

TEST_F(Fleet, AgentsStayOnlineAcrossManyHeartbeatIntervals) {
    cluster.start_controller();  // heartbeat 500ms: offline after 1.5 s of silence
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});
    std::this_thread::sleep_for(3s);
    json agents = cluster.cli_json({"agents"});
    ASSERT_EQ(agents["agents"].size(), 1u);
    EXPECT_TRUE(agents["agents"][0]["online"].get<bool>());
    EXPECT_EQ(cluster.controller_log().find("is offline"), std::string::npos)
        << cluster.controller_log();
}

// A fleet past max_heartbeats_per_second is told a longer heartbeat: the agents take it
// (and heartbeat that much less), and stay online through silences the configured heartbeat
// would have judged offline; jobs run as before.
TEST_F(Fleet, AFleetPastTheHeartbeatRateIsPacedAndStaysOnline) {
    cluster.set_max_heartbeats_per_second(1);  // two agents: one heartbeat each 2 s
    cluster.start_controller();                // heartbeat 500ms
    cluster.add_agent("a1");
    cluster.add_agent("a2");
    cluster.wait_online({"a1", "a2"});
    for (int i = 0; i < 100 && cluster.agent_log("a1").find("every 2000 ms") == std::string::npos;
         ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_NE(cluster.agent_log("a1").find(
                  "the controller asks for a heartbeat every 2000 ms (was 500 ms)"),
              std::string::npos)
        << cluster.agent_log("a1");
    EXPECT_NE(cluster.controller_log().find("heartbeat 2000 ms for 2 agents in session"),
              std::string::npos)
        << cluster.controller_log();
    std::this_thread::sleep_for(5s);  // more than three of 500 ms between heartbeats
    json agents = cluster.cli_json({"agents"});
    for (const json& a : agents["agents"]) EXPECT_TRUE(a["online"].get<bool>()) << a.dump();
    EXPECT_EQ(cluster.controller_log().find("is offline"), std::string::npos)
        << cluster.controller_log();
    int exit_code = -1;
    json done = cluster.cli_json({"run", "--on", "a1,a2", "--", "true"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << done.dump();
}

TEST_F(Fleet, AgentWithAnUnknownKeyIsNoHost) {
    cluster.start_controller();
    cluster.add_agent("known");
    cluster.add_agent("stranger", {.accepted = false});
    cluster.wait_online({"known"});
    for (int i = 0;
         i < 50 && cluster.agent_log("stranger").find("not accepted yet") == std::string::npos; ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_NE(cluster.agent_log("stranger").find("not accepted yet"), std::string::npos)
        << cluster.agent_log("stranger");
    EXPECT_NE(cluster.controller_log().find("agent stranger"), std::string::npos);
    json agents = cluster.cli_json({"agents"});
    for (const json& a : agents["agents"]) EXPECT_NE(a["name"], "stranger");
    CommandResult r = cluster.cli({"run", "--on", "stranger", "--", "true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("no agent matches 'stranger'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hostline::testing
