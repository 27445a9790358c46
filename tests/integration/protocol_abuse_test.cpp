// A client with a valid key that breaks the protocol on purpose: malformed msgpack, oversized
// frames, a flood, sequence numbers out of order and twice, and results for runs it does not
// own. The real controller logs and drops it all, stays up, and a real agent's jobs beside it
// are unaffected.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <msgpack.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/proto/messages.hpp"
#include "common/proto/output_encoding.hpp"
#include "common/transport/curve_keys.hpp"
#include "raw_agent.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool job_final(const json& doc) {
    static const std::set<std::string> kFinal{"succeeded", "failed", "partial", "timed_out",
                                              "cancelled"};
    return doc.contains("job") && kFinal.count(doc["job"].value("state", "")) > 0;
}

// A msgpack map of these fields, as any msgpack library would write it.
std::string pack_map(const std::map<std::string, msgpack::type::variant>& fields) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, fields);
    return std::string(buffer.data(), buffer.size());
}

// Resident memory of a process in MB, from /proc: VmRSS now, or VmHWM (its peak so far).
long memory_mb(pid_t pid, const std::string& field) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1)) / 1024;
    return -1;
}

// Waits for a process this test started to exit; its exit status, or -1 after the timeout.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
}

class ProtocolAbuse : public ::testing::Test {
  protected:
    void SetUp() override {
        // ASan keeps 256 MB of freed memory from reuse by default (its quarantine): that would
        // be most of what the flood test measures, and none of it the controller's own.
        const char* asan = std::getenv("ASAN_OPTIONS");
        if (asan) saved_asan_options_ = asan;
        const std::string options = saved_asan_options_.value_or("") + ":quarantine_size_mb=16";
        ::setenv("ASAN_OPTIONS", options.c_str(), 1);
        cluster.start_controller();
        cluster.add_agent("good-01");
        evil_keys_ = *transport::generate_key_pair();
        cluster.accept_agent_key("evil-01", evil_keys_.public_key);
        cluster.wait_online({"good-01"});
    }
    void TearDown() override {
        if (saved_asan_options_)
            ::setenv("ASAN_OPTIONS", saved_asan_options_->c_str(), 1);
        else
            ::unsetenv("ASAN_OPTIONS");
        evil.reset();
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
        }
    }

    // evil-01 connects with a new socket and says hello: an accepted agent, online.
    void connect_evil() {
        evil.reset();
        evil = std::make_unique<RawAgent>(cluster.agent_endpoint(), cluster.controller_public_key(),
                                          evil_keys_);
        ASSERT_TRUE(evil->hello("evil-01")) << "no welcome for evil-01";
    }

    // `hostline run --on evil-01 -- ARGV` in the background (its pid in cli_pid) and the run
    // the controller sends evil-01 for it; nothing when none comes.
    std::optional<proto::Run> run_on_evil(const std::vector<std::string>& argv, pid_t& cli_pid) {
        std::vector<std::string> args{"run", "--on", "evil-01", "--"};
        args.insert(args.end(), argv.begin(), argv.end());
        cli_pid = cluster.cli_background(args, cluster.dir() + "/evil-run.log");
        return evil->take<proto::Run>(15s);
    }

    bool online(const std::string& name) {
        for (const json& a : cluster.cli_json({"agents"}).value("agents", json::array()))
            if (a.value("name", "") == name) return a.value("online", false);
        return false;
    }

    // Lines of the controller's log at level warn that contain every word.
    std::vector<std::string> warnings_with(const std::vector<std::string>& words) {
        std::vector<std::string> found;
        std::istringstream log(cluster.controller_log());
        for (std::string line; std::getline(log, line);) {
            if (line.find(" warning ") == std::string::npos) continue;
            bool all = true;
            for (const auto& w : words) all = all && line.find(w) != std::string::npos;
            if (all) found.push_back(line);
        }
        return found;
    }

    // What must hold after any abuse: the controller process lives, its HTTP API answers,
    // and a fresh job on good-01 succeeds with the right output.
    void expect_controller_serves_good_agent() {
        const pid_t pid = cluster.controller_pid();
        EXPECT_EQ(::kill(pid, 0), 0) << "the controller is gone";
        EXPECT_TRUE(process_alive(pid)) << "the controller is a zombie";
        int exit_code = -1;
        json doc =
            cluster.cli_json({"run", "--on", "good-01", "--", "echo", "still here"}, &exit_code);
        EXPECT_EQ(exit_code, 0) << doc.dump();
        EXPECT_EQ(doc["job"].value("state", ""), "succeeded") << doc.dump();
        ASSERT_EQ(doc["runs"].size(), 1u) << doc.dump();
        EXPECT_EQ(doc["runs"][0].value("output", ""), "still here\n");
    }

    std::optional<std::string> saved_asan_options_;
    LocalCluster cluster;
    transport::CurveKeyPair evil_keys_;
    std::unique_ptr<RawAgent> evil;
};

TEST_F(ProtocolAbuse, MalformedMessagesAreAnsweredWithAnErrorThatNamesTheFaultAndLogged) {
    connect_evil();

    std::mt19937 random(20240607);
    std::string noise(64, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    noise[0] = '\xc1';  // a byte msgpack never uses, so the noise cannot parse by chance

    std::string truncated = pack_map({{"v", 1}, {"t", std::string("heartbeat")}, {"running", 3}});
    truncated.resize(truncated.size() - 3);

    std::string deep(10000, '\x91');  // [[[[ ... ]]]] 10,000 levels
    deep += '\xc0';

    struct Case {
        const char* what;
        std::string frame;
        const char* code;
        const char* word;  // in the error's message
    };
    const std::vector<Case> cases = {
        {"random bytes", noise, "malformed", "msgpack"},
        {"a truncated map", truncated, "malformed", "truncated"},
        {"a map with non-string keys", std::string("\x82\x01\x02\x03\x04", 5), "malformed",
         "non-string key"},
        {"a string instead of a map", std::string("\xa5hello", 6), "malformed", "not a map"},
        {"nesting 10,000 deep", deep, "malformed", "nests deeper"},
        {"an array header claiming 2^32 elements",
         std::string("\xdd\xff\xff\xff\xff", 5) + std::string(32, '\x01'), "malformed", "array"},
        {"a bin header claiming 4 GiB",
         std::string("\x81\xa4", 2) + "data" + std::string("\xc6\xff\xff\xff\xff", 5) + "abc",
         "malformed", "truncated"},
        {"an unknown type", pack_map({{"v", 1}, {"t", std::string("launch_missiles")}}),
         "unknown_type", "launch_missiles"},
        {"no type", pack_map({{"v", 1}, {"running", 1}}), "malformed", "type"},
        {"a field of the wrong type",
         pack_map({{"v", 1}, {"t", std::string("output")}, {"seq", std::string("first")}}),
         "malformed", "output.seq"},
    };
    std::map<std::string, std::size_t> logged;  // warning lines so far (two cases share one)
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        evil->send_frame(c.frame);
        auto reply = evil->take<proto::ErrorReply>(5s);
        ASSERT_TRUE(reply.has_value()) << "no error reply";
        EXPECT_EQ(reply->code, c.code) << reply->message;
        EXPECT_NE(reply->message.find(c.word), std::string::npos) << reply->message;
        const std::string line = "agent evil-01: dropped a message: " + reply->message;
        EXPECT_EQ(warnings_with({line}).size(), logged[line] + 1) << "the controller logs each one";
        ++logged[line];
    }
    // Another version is no malformed frame: answered error{version}, logged once per agent
    // with what to do (protocol_version_test.cpp).
    for (int i = 0; i < 3; ++i) {
        evil->send_frame(pack_map({{"v", 9}, {"t", std::string("heartbeat")}}));
        auto other = evil->take<proto::ErrorReply>(5s);
        ASSERT_TRUE(other.has_value()) << "no error reply";
        EXPECT_EQ(other->code, "version");
        EXPECT_EQ(other->speaks, 1u);
        EXPECT_NE(other->message.find("version 9"), std::string::npos) << other->message;
    }
    EXPECT_EQ(warnings_with({"agent evil-01 (key SHA256:", "speaks protocol version 9"}).size(),
              1u);
    EXPECT_TRUE(online("evil-01")) << "the peer stays connected and online";
    expect_controller_serves_good_agent();
}

TEST_F(ProtocolAbuse, AnOversizedFrameCostsOnlyTheConnectionAndTheAgentMayComeBack) {
    connect_evil();
    evil->keep_alive(false);
    proto::Output huge{1, 1, "stdout", {std::string(proto::kMaxMessageBytes + 1024, 'x')}};
    evil->send(huge);
    ASSERT_TRUE(evil->wait_sent(10s));
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(process_alive(cluster.controller_pid()));
    EXPECT_FALSE(evil->take<proto::Ack>(200ms).has_value())
        << "the frame never reached the scheduler";

    connect_evil();  // a new socket, a new hello
    EXPECT_TRUE(online("evil-01"));
    expect_controller_serves_good_agent();
}

TEST_F(ProtocolAbuse, AFloodLeavesTheControllerUpWithinItsMemoryAndOtherJobsRunning) {
    connect_evil();
    // The bound is on what the flood adds: the controller's own size (ASan's shadow, the
    // libraries it links) is not the flood's.
    const long before = memory_mb(cluster.controller_pid(), "VmRSS");
    const int kFlood = 100'000;
    const std::string kilobyte(1024, 'f');
    for (int i = 0; i < kFlood; ++i) {
        if (i % 2 == 0)
            evil->send(proto::Heartbeat{1});
        else  // for a run that does not exist
            evil->send(
                proto::Output{987654321, static_cast<std::uint64_t>(i), "stdout", {kilobyte}});
    }

    // good-01's job runs while the flood goes on.
    int exit_code = -1;
    json doc = cluster.cli_json({"run", "--on", "good-01", "--", "sh", "-c",
                                 "for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.1; done"},
                                &exit_code);
    EXPECT_EQ(exit_code, 0) << doc.dump();
    EXPECT_EQ(doc["job"].value("state", ""), "succeeded") << doc.dump();
    std::string ticks;
    for (int i = 1; i <= 8; ++i) ticks += "tick " + std::to_string(i) + "\n";
    ASSERT_EQ(doc["runs"].size(), 1u);
    EXPECT_EQ(doc["runs"][0].value("output", ""), ticks);

    long peak = 0;
    bool sent = false;
    for (int i = 0; i < 600 && !sent; ++i) {  // up to 60 s
        sent = evil->wait_sent(100ms);
        peak = std::max(peak, memory_mb(cluster.controller_pid(), "VmRSS"));
    }
    EXPECT_TRUE(sent) << "the controller stopped taking messages";
    peak = std::max(peak, memory_mb(cluster.controller_pid(), "VmHWM"));
    EXPECT_GT(before, 0);
    EXPECT_LT(peak - before, 200) << "MB the flood added to the " << before
                                  << " MB resident before it (ASan build); peak " << peak << " MB";
    std::printf("controller RSS: %ld MB before the flood, %ld MB at its peak\n", before, peak);
    expect_controller_serves_good_agent();
}

TEST_F(ProtocolAbuse, OutOfOrderAndRepeatedSequenceNumbersAreStoredOnceInOrder) {
    connect_evil();
    pid_t cli = -1;
    auto run = run_on_evil({"echo", "x"}, cli);
    ASSERT_TRUE(run.has_value()) << "the controller did not send evil-01 its run";
    const std::uint64_t id = run->run_id;
    const std::int64_t started = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
    auto output = [&](std::uint64_t seq, const std::string& data) {
        return proto::Output{id, seq, "stdout", {data}};
    };
    const std::map<std::uint64_t, proto::Message> by_seq = {
        {1, output(1, "one\n")},
        {2, output(2, "two\n")},
        {3, output(3, "three\n")},
        {4, proto::RunResult{id, 4, "exited", 7, 0, started, started + 5, 14, 0, false, ""}},
    };
    std::vector<std::uint64_t> acks;
    auto collect_acks = [&](std::chrono::milliseconds quiet) {
        while (auto ack = evil->take<proto::Ack>(
                   quiet, [&](const proto::Ack& a) { return a.run_id == id; }))
            acks.push_back(ack->seq);
    };

    evil->send(proto::RunAck{id, true, ""});
    for (std::uint64_t seq : {2, 1, 1, 3, 4}) evil->send(by_seq.at(seq));
    collect_acks(700ms);
    ASSERT_FALSE(acks.empty()) << "nothing acknowledged";
    for (std::uint64_t seq : acks)
        EXPECT_LE(seq, 1u) << "seq 2 came before seq 1 and was dropped: nothing past 1 is stored";

    // Then evil-01 behaves like an agent: it resends what the acks say is missing (and one
    // chunk twice), until the result is acknowledged.
    for (int round = 0; round < 10 && (acks.empty() || acks.back() < 4); ++round) {
        const std::uint64_t have = acks.empty() ? 0 : acks.back();
        for (std::uint64_t seq = have + 1; seq <= 4; ++seq) {
            evil->send(by_seq.at(seq));
            if (seq == 3)  // repeats of the newest chunk, while the one before may be uncommitted
                for (int again = 0; again < 3; ++again) evil->send(by_seq.at(seq));
        }
        collect_acks(700ms);
    }
    std::string all_acks;
    for (std::uint64_t seq : acks) all_acks += " " + std::to_string(seq);
    SCOPED_TRACE("acks in the order received:" + all_acks);
    ASSERT_FALSE(acks.empty());
    EXPECT_EQ(acks.back(), 4u) << "the result is acknowledged";
    for (std::size_t i = 0; i < acks.size(); ++i) {
        EXPECT_LE(acks[i], 4u) << "an ack for a seq never sent";
        if (i > 0) {
            EXPECT_GE(acks[i], acks[i - 1]) << "acks are cumulative: they never go back";
        }
    }

    json done = cluster.wait_job(static_cast<long>(run->job_id), job_final);
    ASSERT_TRUE(job_final(done)) << done.dump();
    ASSERT_EQ(done["runs"].size(), 1u);
    EXPECT_EQ(done["runs"][0].value("state", ""), "failed");
    EXPECT_EQ(done["runs"][0]["exit_code"], 7) << "the result's exit code";

    json stored = cluster.cli_json({"job", std::to_string(run->job_id), "--output"});
    std::string text;
    std::vector<std::uint64_t> seqs;
    for (const json& chunk : stored.at("output")) {
        seqs.push_back(chunk.value("seq", 0u));
        text += chunk.value("data", "");
    }
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3})) << stored.dump();
    EXPECT_EQ(text, "one\ntwo\nthree\n");
    CommandResult human = cluster.cli({"job", std::to_string(run->job_id), "--output"});
    EXPECT_NE(human.out.find("evil-01 | one\nevil-01 | two\nevil-01 | three\n"), std::string::npos)
        << human.out;

    EXPECT_EQ(wait_exit(cli, 20s), 1) << "hostline run reports the failed run";
    expect_controller_serves_good_agent();
}

// Compressed output the controller cannot read (not LZ4, another size than it says, an
// encoding it does not know, more than a chunk may stand for) is answered by a note in its
// place, so the run's output says bytes were lost; it is acknowledged, so an agent does not
// resend it for ever; and a good compressed chunk beside it is stored as sent.
TEST_F(ProtocolAbuse, CompressedOutputThatDoesNotDecodeBecomesANoteAndIsAcknowledged) {
    connect_evil();
    pid_t cli = -1;
    auto run = run_on_evil({"seq", "9"}, cli);
    ASSERT_TRUE(run.has_value()) << "the controller did not send evil-01 its run";
    const std::uint64_t id = run->run_id;
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "good line " + std::to_string(i) + "\n";
    std::string scratch;
    const proto::CompressedChunk good = proto::compress_chunk(text, scratch);
    ASSERT_EQ(good.consumed, text.size());
    const std::string good_bytes(good.bytes);
    auto lz4 = [&](std::uint64_t seq, std::string bytes, std::uint32_t size,
                   std::string encoding = "lz4") {
        return proto::Output{id, seq, "stdout", {std::move(bytes)}, std::move(encoding), size};
    };
    evil->send(proto::RunAck{id, true, ""});
    evil->send(lz4(1, "not lz4 at all", 5000));
    evil->send(lz4(2, good_bytes, static_cast<std::uint32_t>(text.size()) + 1));
    evil->send(lz4(3, good_bytes, static_cast<std::uint32_t>(text.size())));
    evil->send(lz4(4, good_bytes, static_cast<std::uint32_t>(text.size()), "zstd"));
    evil->send(lz4(5, good_bytes, 1u << 30));
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    evil->send(proto::RunResult{id, 6, "exited", 0, 0, now, now + 1, 0, 0, false, ""});
    auto acked = evil->take<proto::Ack>(
        15s, [&](const proto::Ack& a) { return a.run_id == id && a.seq == 6; });
    EXPECT_TRUE(acked.has_value()) << "everything up to the result is acknowledged";

    json done = cluster.wait_job(static_cast<long>(run->job_id), job_final);
    ASSERT_TRUE(job_final(done)) << done.dump();
    json stored = cluster.cli_json({"job", std::to_string(run->job_id), "--output"});
    std::vector<std::string> chunks;
    for (const json& chunk : stored.at("output")) chunks.push_back(chunk.value("data", ""));
    ASSERT_EQ(chunks.size(), 5u) << stored.dump().substr(0, 2000);
    EXPECT_EQ(chunks[0],
              "\n[hostline: 5000 bytes of output lost: the agent sent them in a form that cannot "
              "be read (an lz4 output chunk of 14 bytes that does not decode into the 5000 bytes "
              "it says)]\n");
    EXPECT_NE(chunks[1].find("does not decode into the " + std::to_string(text.size() + 1)),
              std::string::npos)
        << chunks[1];
    EXPECT_TRUE(chunks[2] == text) << "the good chunk, byte for byte";
    EXPECT_NE(chunks[3].find("unknown encoding 'zstd'"), std::string::npos) << chunks[3];
    EXPECT_NE(chunks[4].find("at most 1048576"), std::string::npos) << chunks[4];
    EXPECT_EQ(warnings_with({"evil-01", "cannot be read"}).size(), 4u) << cluster.controller_log();
    EXPECT_EQ(wait_exit(cli, 20s), 0);
    expect_controller_serves_good_agent();
}

TEST_F(ProtocolAbuse, ResultsAndOutputForRunsItDoesNotOwnChangeNothing) {
    connect_evil();
    const pid_t cli = cluster.cli_background(
        {"run", "--on", "good-01", "--", "sh", "-c", "echo good-start; sleep 2; echo good-end"},
        cluster.dir() + "/good-run.log");
    long job_id = 0;
    for (int i = 0; i < 100 && job_id == 0; ++i) {
        json jobs = cluster.try_cli_json({"jobs"});
        for (const json& j : jobs.value("jobs", json::array())) job_id = j.value("id", 0L);
        if (job_id == 0) std::this_thread::sleep_for(100ms);
    }
    ASSERT_NE(job_id, 0) << "the job on good-01 does not show";
    json running = cluster.wait_job(job_id, [](const json& doc) {
        const json runs = doc.value("runs", json::array());
        return runs.size() == 1 && runs[0].value("state", "") == "running";
    });
    ASSERT_EQ(running["runs"].size(), 1u) << running.dump();
    const std::uint64_t good_run = running["runs"][0].value("id", 0u);
    ASSERT_NE(good_run, 0u);
    const std::uint64_t no_run = good_run + 1000;

    // Everything an agent can say about a run, for good-01's run and for one that does not exist.
    for (std::uint64_t id : {good_run, no_run}) {
        evil->send(proto::RunAck{id, false, "evil-01 refuses"});
        evil->send(proto::Output{id, 1, "stdout", {"evil output\n"}});
        evil->send(proto::Output{id, 2, "stderr", {"more evil\n"}});
        for (std::uint64_t seq : {1, 2, 3})
            evil->send(proto::RunResult{id, seq, "exited", 99, 0, 1, 2, 10, 0, false, "evil"});
    }
    ASSERT_TRUE(evil->wait_sent(5s));

    json done = cluster.wait_job(job_id, job_final);
    ASSERT_TRUE(job_final(done)) << done.dump();
    EXPECT_EQ(done["job"].value("state", ""), "succeeded") << done.dump();
    EXPECT_EQ(done["runs"][0].value("agent", ""), "good-01");
    EXPECT_EQ(done["runs"][0]["exit_code"], 0);
    json stored = cluster.cli_json({"job", std::to_string(job_id), "--output"});
    std::string text;
    for (const json& chunk : stored.at("output")) text += chunk.value("data", "");
    EXPECT_EQ(text, "good-start\ngood-end\n") << "good-01's own output, untouched";
    EXPECT_EQ(wait_exit(cli, 20s), 0);

    EXPECT_FALSE(
        evil->take<proto::Ack>(300ms, [&](const proto::Ack& a) { return a.run_id == good_run; })
            .has_value())
        << "evil-01 is never told anything of good-01's run";
    EXPECT_FALSE(warnings_with({"evil-01", std::to_string(good_run)}).empty())
        << "the controller logs a warning naming evil-01 and the run it does not own";
    expect_controller_serves_good_agent();
}

}  // namespace
}  // namespace hostline::testing
