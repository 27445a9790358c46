#include "agent/spool/spool.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/proto/codec.hpp"

namespace hostline::agent {
namespace {

namespace fs = std::filesystem;
using Clock = Spool::Clock;

class SpoolTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-spool-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        dir_ += "/spool";
    }
    void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }

    std::unique_ptr<Spool> open(std::uint64_t max_bytes = 1 << 20) {
        auto spool = Spool::open(dir_, max_bytes);
        EXPECT_TRUE(spool.ok()) << (spool ? "" : spool.error().message);
        return std::move(*spool);
    }

    static proto::Output output(std::uint64_t run, std::string data) {
        return proto::Output{run, 0, "stdout", proto::Bytes{std::move(data)}};
    }
    static proto::RunResult result(std::uint64_t run) {
        proto::RunResult r;
        r.run_id = run;
        r.status = "exited";
        r.exit_code = 0;
        return r;
    }

    // The decoded messages Spool::due() hands out now.
    static std::vector<proto::Message> due(Spool& spool, Clock::time_point now = Clock::now()) {
        std::vector<proto::Message> out;
        for (const std::string& frame : spool.due(now)) {
            auto m = proto::decode(frame);
            EXPECT_TRUE(m.ok());
            if (m) out.push_back(std::move(*m));
        }
        return out;
    }

    std::string dir_;
};

TEST_F(SpoolTest, MessagesGetSequenceNumbersAndSurviveARestart) {
    {
        auto spool = open();
        ASSERT_TRUE(spool->begin_run(7).ok());
        auto a = output(7, "first");
        auto b = output(7, "second");
        ASSERT_EQ(spool->add_output(a), Spool::Stored::yes);
        ASSERT_EQ(spool->add_output(b), Spool::Stored::yes);
        EXPECT_EQ(a.seq, 1u);
        EXPECT_EQ(b.seq, 2u);
        auto r = result(7);
        spool->add_result(r);
        EXPECT_EQ(r.seq, 3u);
        spool->acknowledge(7, 1);
    }
    auto spool = open();
    EXPECT_TRUE(spool->interrupted().empty()) << "the run finished";
    EXPECT_TRUE(spool->seen(7));
    ASSERT_EQ(spool->held_runs(), (std::vector<proto::HeldRun>{{7, true}}));
    auto sent = due(*spool);
    ASSERT_EQ(sent.size(), 2u) << "seq 1 was acknowledged before the restart";
    EXPECT_EQ(std::get<proto::Output>(sent[0]).seq, 2u);
    EXPECT_EQ(std::get<proto::Output>(sent[0]).data.data, "second");
    EXPECT_EQ(std::get<proto::RunResult>(sent[1]).seq, 3u);
}

TEST_F(SpoolTest, AnAcknowledgedResultDeletesTheRunButItIsStillRemembered) {
    {
        auto spool = open();
        ASSERT_TRUE(spool->begin_run(9).ok());
        auto r = result(9);
        spool->add_result(r);
        spool->acknowledge(9, r.seq);
        EXPECT_FALSE(spool->holds(9));
        EXPECT_EQ(spool->pending_messages(), 0u);
        EXPECT_GT(fs::file_size(dir_ + "/9.log"), 0u) << "the file work waits for tidy()";
        spool->tidy();
        EXPECT_EQ(fs::file_size(dir_ + "/9.log"), 0u)
            << "nothing of the delivered run is kept; the empty log waits to be reused";
    }
    auto spool = open();
    EXPECT_TRUE(spool->seen(9)) << "a run is never started twice, also after a restart";
    EXPECT_TRUE(spool->held_runs().empty());
    EXPECT_FALSE(fs::exists(dir_ + "/9.log")) << "an empty log is not a run: deleted at the start";
}

// Delivered logs are emptied and renamed into later runs' logs rather than deleted and created
// again (spool.hpp): a reused one starts empty, is never read back as the run it was, and no
// more than Spool::kFreeLogs of them wait on disk.
TEST_F(SpoolTest, ADeliveredLogIsReusedEmptyAndNeverReadAsARunAgain) {
    auto count_logs = [&] {
        std::size_t logs = 0;
        for (const auto& entry : fs::directory_iterator(dir_))
            logs += entry.path().extension() == ".log" ||
                    entry.path().filename().string().starts_with("free-");
        return logs;
    };
    {
        auto spool = open();
        // All going at once, so all are done with at the end.
        for (std::uint64_t run = 1; run <= Spool::kFreeLogs + 4; ++run)
            ASSERT_TRUE(spool->begin_run(run).ok());
        for (std::uint64_t run = 1; run <= Spool::kFreeLogs + 4; ++run) {
            auto o = output(run, std::string(1000, 'x'));
            ASSERT_EQ(spool->add_output(o), Spool::Stored::yes);
            auto r = result(run);
            spool->add_result(r);
            spool->acknowledge(run, r.seq);
        }
        spool->tidy();
        EXPECT_EQ(spool->pending_messages(), 0u);
        EXPECT_EQ(count_logs(), Spool::kFreeLogs) << "delivered logs are kept, up to the limit";

        ASSERT_TRUE(spool->begin_run(100).ok());
        EXPECT_EQ(fs::file_size(dir_ + "/100.log"), 16u) << "only its own `started` record";
        EXPECT_EQ(count_logs(), Spool::kFreeLogs) << "a kept log became run 100's";
    }
    auto restarted = open();
    EXPECT_EQ(restarted->interrupted(), std::vector<std::uint64_t>{100});
    EXPECT_EQ(restarted->pending_messages(), 0u) << "nothing of the run the log was before";
    EXPECT_EQ(count_logs(), 1u) << "the kept logs, empty, are not runs: deleted at the start";
}

// What goes out as soon as it is stored is sent from memory; only a resend reads the log. The
// log is cut behind the spool's back to tell the two apart.
TEST_F(SpoolTest, AMessageSentAtOnceIsNotReadBackAndAResendIsReadFromTheLog) {
    auto spool = open();
    ASSERT_TRUE(spool->begin_run(5).ok());
    auto o = output(5, "hello");
    ASSERT_EQ(spool->add_output(o), Spool::Stored::yes);
    fs::resize_file(dir_ + "/5.log", 0);

    auto sent = due(*spool);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(std::get<proto::Output>(sent[0]).data.data, "hello");

    spool->resend_all();
    EXPECT_TRUE(due(*spool).empty()) << "the resend reads the log, which no longer holds it";
}

// An earlier release kept delivered logs as free-RUN with their records: one is emptied before
// it becomes a run's log.
TEST_F(SpoolTest, AFreeLogAnEarlierReleaseKeptIsEmptiedBeforeItIsReused) {
    fs::create_directories(dir_);
    {
        std::ofstream old(dir_ + "/free-7", std::ios::binary);
        old << std::string(500, 'r');
    }
    auto spool = open();
    ASSERT_TRUE(spool->begin_run(300).ok());
    EXPECT_FALSE(fs::exists(dir_ + "/free-7")) << "taken for run 300";
    EXPECT_EQ(fs::file_size(dir_ + "/300.log"), 16u) << "only its own `started` record";
}

TEST_F(SpoolTest, ARunWithoutItsResultIsInterruptedAfterARestartAndKeepsItsOutput) {
    {
        auto spool = open();
        ASSERT_TRUE(spool->begin_run(3).ok());
        auto a = output(3, "partial");
        ASSERT_EQ(spool->add_output(a), Spool::Stored::yes);
    }
    auto spool = open();
    EXPECT_EQ(spool->interrupted(), std::vector<std::uint64_t>{3});
    auto r = result(3);
    spool->add_result(r);
    EXPECT_EQ(r.seq, 2u) << "the result continues the run's sequence";
    auto sent = due(*spool);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(std::get<proto::Output>(sent[0]).data.data, "partial");
}

TEST_F(SpoolTest, ATornLastRecordIsCutOffAndTheRestKept) {
    {
        auto spool = open();
        ASSERT_TRUE(spool->begin_run(4).ok());
        auto a = output(4, "whole");
        ASSERT_EQ(spool->add_output(a), Spool::Stored::yes);
    }
    auto size = fs::file_size(dir_ + "/4.log");
    {
        std::ofstream log(dir_ + "/4.log", std::ios::app | std::ios::binary);
        log << "\x40\x00\x00\x00O";  // a header cut short by a crash
    }
    auto spool = open();
    EXPECT_EQ(fs::file_size(dir_ + "/4.log"), size);
    auto a = output(4, "next");
    ASSERT_EQ(spool->add_output(a), Spool::Stored::yes);
    EXPECT_EQ(a.seq, 2u);
    auto sent = due(*spool);
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(std::get<proto::Output>(sent[0]).data.data, "whole");
    EXPECT_EQ(std::get<proto::Output>(sent[1]).data.data, "next");
}

TEST_F(SpoolTest, OutputBeyondTheLimitIsRefusedUntilSomethingIsAcknowledged) {
    auto spool = open(1 << 20);
    ASSERT_TRUE(spool->begin_run(1).ok());
    std::string chunk(64 * 1024, 'x');
    std::uint64_t last = 0;
    int stored = 0;
    for (;;) {
        auto o = output(1, chunk);
        if (spool->add_output(o) == Spool::Stored::full) break;
        last = o.seq;
        ++stored;
    }
    EXPECT_EQ(stored, 15) << "16 chunks and their headers are just over 1 MiB";
    EXPECT_LE(spool->used_bytes(), spool->max_bytes());
    // A result always fits: it is never what is lost.
    auto full = output(1, chunk);
    EXPECT_EQ(spool->add_output(full), Spool::Stored::full);
    spool->acknowledge(1, last);
    EXPECT_EQ(spool->used_bytes(), 0u);
    auto again = output(1, chunk);
    EXPECT_EQ(spool->add_output(again), Spool::Stored::yes);
    EXPECT_EQ(again.seq, last + 1) << "a refused chunk takes no sequence number";
}

TEST_F(SpoolTest, AResultIsStoredEvenWhenTheSpoolIsFull) {
    auto spool = open(1 << 20);
    ASSERT_TRUE(spool->begin_run(1).ok());
    while (true) {
        auto o = output(1, std::string(64 * 1024, 'y'));
        if (spool->add_output(o) == Spool::Stored::full) break;
    }
    auto r = result(1);
    spool->add_result(r);
    EXPECT_EQ(spool->held_runs(), (std::vector<proto::HeldRun>{{1, true}}));
}

TEST_F(SpoolTest, NoMoreThanTheWindowIsInFlightAndStaleOnesAreResent) {
    auto spool = open();
    ASSERT_TRUE(spool->begin_run(5).ok());
    for (int i = 0; i < 100; ++i) {
        auto o = output(5, "line " + std::to_string(i));
        ASSERT_EQ(spool->add_output(o), Spool::Stored::yes);
    }
    auto now = Clock::now();
    EXPECT_EQ(due(*spool, now).size(), Spool::kWindowMessages);
    EXPECT_TRUE(due(*spool, now).empty()) << "the window is full";
    spool->acknowledge(5, 10);
    auto next = due(*spool, now);
    ASSERT_EQ(next.size(), 10u);
    EXPECT_EQ(std::get<proto::Output>(next[0]).seq, Spool::kWindowMessages + 1);
    // Unacknowledged for too long: sent again, oldest first.
    auto later = due(*spool, now + Spool::kResendAfter);
    ASSERT_EQ(later.size(), Spool::kWindowMessages);
    EXPECT_EQ(std::get<proto::Output>(later[0]).seq, 11u);
    // A new session: everything unacknowledged goes again, within the window.
    spool->resend_all();
    EXPECT_EQ(due(*spool, now).size(), Spool::kWindowMessages);
}

TEST_F(SpoolTest, AnAbandonedRunIsForgottenAlsoAfterARestart) {
    {
        auto spool = open();
        ASSERT_TRUE(spool->begin_run(11).ok());
        EXPECT_TRUE(spool->seen(11));
        spool->abandon_run(11);
        EXPECT_FALSE(spool->seen(11));
    }
    auto spool = open();
    EXPECT_FALSE(spool->seen(11));
    EXPECT_FALSE(fs::exists(dir_ + "/11.log"));
}

TEST_F(SpoolTest, AcknowledgedBytesOfARunStillGoingAreGivenBackToTheDisk) {
    auto spool = open(std::uint64_t{64} << 20);
    ASSERT_TRUE(spool->begin_run(2).ok());
    std::uint64_t last = 0;
    for (int i = 0; i < 64; ++i) {
        auto o = output(2, std::string(64 * 1024, 'z'));
        ASSERT_EQ(spool->add_output(o), Spool::Stored::yes);
        last = o.seq;
    }
    struct stat before {};
    ASSERT_EQ(::stat((dir_ + "/2.log").c_str(), &before), 0);
    spool->acknowledge(2, last);
    struct stat after {};
    ASSERT_EQ(::stat((dir_ + "/2.log").c_str(), &after), 0);
    EXPECT_LT(after.st_blocks * 512, before.st_blocks * 512 / 4)
        << "the acknowledged payloads were punched out of the log";
}

}  // namespace
}  // namespace hostline::agent
