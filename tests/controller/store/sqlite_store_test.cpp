// The SQLite store against a real database in a temporary directory. Completions are posted
// into a queue that each test drains on its own thread, as the controller's io_context would.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/proto/output_encoding.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

// Stands in for the controller's io_context: the store posts here, the test thread runs them.
class Completions {
  public:
    Store::Post post() {
        return [this](std::function<void()> completion) {
            {
                std::lock_guard lock(mutex_);
                queue_.push_back(std::move(completion));
                ++posted_;
            }
            ready_.notify_one();
        };
    }

    // Runs posted completions on this thread until done() holds. False after 30 s without.
    bool run_until(const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!done()) {
            std::function<void()> next;
            {
                std::unique_lock lock(mutex_);
                if (!ready_.wait_until(lock, deadline, [this] { return !queue_.empty(); })) {
                    return false;
                }
                next = std::move(queue_.front());
                queue_.pop_front();
            }
            next();
        }
        return true;
    }

    std::size_t posted() {
        std::lock_guard lock(mutex_);
        return posted_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> queue_;
    std::size_t posted_ = 0;
};

class SqliteStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "store-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = (dir_ / "hostline.db").string();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    Store& open() {
        store_.reset();
        auto opened = Store::open(path_, completions_.post());
        if (!opened) ADD_FAILURE() << opened.error().message;
        store_ = std::move(*opened);
        return *store_;
    }

    // Starts a read and runs completions until it answers.
    template <typename T>
    Result<T> wait_for(const std::function<void(Callback<T>)>& start) {
        std::optional<Result<T>> answer;
        start([&answer](Result<T> result) { answer.emplace(std::move(result)); });
        EXPECT_TRUE(completions_.run_until([&] { return answer.has_value(); }));
        if (!answer) return fail("no answer");
        return std::move(*answer);
    }

    JobDetail job_detail(std::int64_t id) {
        auto detail = wait_for<JobDetail>([&](auto done) { store_->job(id, std::move(done)); });
        EXPECT_TRUE(detail.ok()) << detail.error().message;
        return detail ? *detail : JobDetail{};
    }

    std::vector<Job> list(const JobQuery& query) {
        auto jobs = wait_for<std::vector<Job>>(
            [&](auto done) { store_->list_jobs(query, std::move(done)); });
        EXPECT_TRUE(jobs.ok()) << jobs.error().message;
        return jobs ? *jobs : std::vector<Job>{};
    }

    std::vector<OutputChunk> output_of(std::int64_t job_id) {
        auto chunks = wait_for<std::vector<OutputChunk>>(
            [&](auto done) { store_->output(job_id, std::move(done)); });
        EXPECT_TRUE(chunks.ok()) << chunks.error().message;
        return chunks ? *chunks : std::vector<OutputChunk>{};
    }

    OutputSlice output_range_of(std::int64_t job_id, const OutputRange& range) {
        auto slice = wait_for<OutputSlice>(
            [&](auto done) { store_->output_range(job_id, range, std::move(done)); });
        EXPECT_TRUE(slice.ok()) << slice.error().message;
        return slice ? *slice : OutputSlice{};
    }

    void flush() {
        bool flushed = false;
        store_->flush([&] { flushed = true; });
        ASSERT_TRUE(completions_.run_until([&] { return flushed; }));
    }

    std::filesystem::path dir_;
    std::string path_;
    Completions completions_;
    std::unique_ptr<Store> store_;
};

Job make_job(std::int64_t id, JobState state = JobState::running) {
    Job job;
    job.id = id;
    job.requester = "local:alice";
    job.source = "cli";
    job.target = "web-*";
    job.argv = {"uptime", "--pretty", "with space"};
    job.env = {{"LANG", "C"}, {"TZ", "UTC"}};
    job.cwd = "/tmp";
    job.timeout_ms = 600'000;
    job.state = state;
    job.created_at_ms = 1'700'000'000'000 + id;
    job.finished_at_ms = is_final(state) ? job.created_at_ms + 5 : 0;
    return job;
}

RunRecord make_run(std::int64_t id, std::int64_t job_id, std::string agent,
                   RunState state = RunState::running) {
    RunRecord run;
    run.id = id;
    run.job_id = job_id;
    run.agent = std::move(agent);
    run.state = state;
    run.started_at_ms = 1'700'000'000'100;
    return run;
}

OutputChunk make_chunk(const RunRecord& run, std::uint64_t seq, std::string data) {
    return OutputChunk{run.id, run.agent, seq, "stdout", std::move(data)};
}

// A chunk as the scheduler hands over one an agent sent LZ4-compressed: the bytes and their
// compressed form (data must compress whole into one message).
OutputChunk compressed_chunk(const RunRecord& run, std::uint64_t seq, std::string stream,
                             std::string data) {
    std::string scratch;
    const proto::CompressedChunk compressed = proto::compress_chunk(data, scratch);
    EXPECT_EQ(compressed.consumed, data.size()) << "the test's data must compress whole";
    return OutputChunk{
        run.id, run.agent, seq, std::move(stream), std::move(data), std::string(compressed.bytes)};
}

void expect_same_job(const Job& a, const Job& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.requester, b.requester);
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.argv, b.argv);
    EXPECT_EQ(a.env, b.env);
    EXPECT_EQ(a.cwd, b.cwd);
    EXPECT_EQ(a.run_as_user, b.run_as_user);
    EXPECT_EQ(a.run_as_group, b.run_as_group);
    EXPECT_EQ(a.timeout_ms, b.timeout_ms);
    EXPECT_EQ(a.output_cap_bytes, b.output_cap_bytes);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.cancel_requested, b.cancel_requested);
    EXPECT_EQ(a.created_at_ms, b.created_at_ms);
    EXPECT_EQ(a.finished_at_ms, b.finished_at_ms);
}

void expect_same_run(const RunRecord& a, const RunRecord& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.job_id, b.job_id);
    EXPECT_EQ(a.agent, b.agent);
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.exit_code, b.exit_code);
    EXPECT_EQ(a.signal, b.signal);
    EXPECT_EQ(a.started_at_ms, b.started_at_ms);
    EXPECT_EQ(a.ended_at_ms, b.ended_at_ms);
    EXPECT_EQ(a.stdout_bytes, b.stdout_bytes);
    EXPECT_EQ(a.stderr_bytes, b.stderr_bytes);
    EXPECT_EQ(a.stored_bytes, b.stored_bytes);
    EXPECT_EQ(a.truncated, b.truncated);
    EXPECT_EQ(a.last_seq, b.last_seq);
    EXPECT_EQ(a.error, b.error);
}

std::vector<std::int64_t> ids_of(const std::vector<Job>& jobs) {
    std::vector<std::int64_t> ids;
    for (const auto& job : jobs) ids.push_back(job.id);
    return ids;
}

TEST_F(SqliteStoreTest, MigratesAnEmptyDatabaseAndReopens) {
    open().save_job(make_job(1));
    flush();
    store_.reset();

    Store& store = open();
    auto snapshot = store.load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    EXPECT_EQ(snapshot->max_job_id, 1);
    store_.reset();

    SQLite::Database db(path_);
    // Every migration this binary knows, once (the numbers may have gaps: 4-7 are reserved).
    const auto all = detail::migrations();
    EXPECT_EQ(db.execAndGet("SELECT MAX(version) FROM schema_version").getInt(),
              all.back().version);
    EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM schema_version").getInt(),
              static_cast<int>(all.size()));
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST_F(SqliteStoreTest, AJobFromSchemaVersion2HasTheDefaultCapAndNoScript) {
    {
        SQLite::Database db(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT "
            "NULL)");
        for (const auto& migration : detail::migrations()) {
            if (migration.version > 2) break;
            db.exec(std::string(migration.sql));
            db.exec("INSERT INTO schema_version VALUES (" + std::to_string(migration.version) +
                    ", 0)");
        }
        db.exec(
            "INSERT INTO jobs (id, requester, source, target, argv, env, cwd, script_sha256, "
            "timeout_ms, state, cancel_requested, created_at_ms, finished_at_ms) VALUES (1, "
            "'local:alice', 'cli', 'web-*', '[\"uptime\"]', '{}', '', 'abc', 1000, 'running', 0, "
            "1, "
            "0)");
    }

    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->active_jobs.size(), 1u);
    EXPECT_EQ(snapshot->active_jobs[0].output_cap_bytes, 0);
    EXPECT_EQ(snapshot->active_jobs[0].script_sha256, "abc");
    EXPECT_EQ(snapshot->active_jobs[0].script, "");
}

TEST_F(SqliteStoreTest, OutputCapComesBackEverywhereAJobIsRead) {
    Store& store = open();
    Job capped = make_job(1);
    capped.output_cap_bytes = std::int64_t{1} << 40;  // over 32 bits
    store.save_job(capped);
    store.save_job(make_job(2));

    expect_same_job(job_detail(1).job, capped);
    EXPECT_EQ(job_detail(2).job.output_cap_bytes, 0);
    auto listed = list(JobQuery{});
    ASSERT_EQ(listed.size(), 2u);
    expect_same_job(listed[1], capped);

    store_.reset();
    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->active_jobs.size(), 2u);
    expect_same_job(snapshot->active_jobs[0], capped);
    expect_same_job(snapshot->active_jobs[1], make_job(2));
}

TEST_F(SqliteStoreTest, AnApprovalKeepsItsHostsAndVotesAndPendingOnesAreInTheSnapshot) {
    Store& store = open();
    store.save_job(make_job(1, JobState::pending_approval));
    store.save_job(make_job(2, JobState::denied));
    Approval pending;
    pending.job_id = 1;
    pending.requester = "irc:alice";
    pending.source = "irc:#ops";
    pending.target = "role=web";
    pending.argv = {"systemctl", "restart", "nginx"};
    pending.hosts = {"web-1", "web-2"};
    pending.group = "ops";
    pending.count = 2;
    pending.created_at_ms = 1000;
    pending.expires_at_ms = 1000 + 30 * 60 * 1000;
    pending.votes = {{"irc:bob", true, "", 1500}};
    store.save_approval(pending);
    Approval denied = pending;
    denied.job_id = 2;
    denied.state = ApprovalState::denied;
    denied.reason = "denied by irc:carol: not now";
    denied.decided_at_ms = 2000;
    denied.votes.push_back({"irc:carol", false, "not now", 2000});
    store.save_approval(denied);
    pending.votes.push_back({"irc:carol", true, "", 1600});  // a second vote, saved later
    store.save_approval(pending);
    flush();
    store_.reset();

    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->pending_approvals.size(), 1u);
    const Approval& back = snapshot->pending_approvals[0];
    EXPECT_EQ(back.job_id, 1);
    EXPECT_EQ(back.hosts, (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_EQ(back.argv, pending.argv);
    EXPECT_EQ(back.count, 2);
    EXPECT_EQ(back.expires_at_ms, pending.expires_at_ms);
    ASSERT_EQ(back.votes.size(), 2u);
    EXPECT_EQ(back.votes[1].approver, "irc:carol");
    // The history pages newest first over the decided states.
    for (std::int64_t id = 3; id <= 5; ++id) {
        Approval later = denied;
        later.job_id = id;
        later.state = id == 4 ? ApprovalState::expired : ApprovalState::granted;
        store_->save_job(make_job(id, JobState::succeeded));
        store_->save_approval(later);
    }
    auto page = wait_for<std::vector<Approval>>([&](auto done) {
        store_->list_approvals(
            {.states = {ApprovalState::granted, ApprovalState::denied, ApprovalState::expired},
             .before_job_id = 5,
             .limit = 2},
            std::move(done));
    });
    ASSERT_TRUE(page.ok()) << page.error().message;
    ASSERT_EQ(page->size(), 2u);
    EXPECT_EQ((*page)[0].job_id, 4);
    EXPECT_EQ((*page)[1].job_id, 3);
    auto rest = wait_for<std::vector<Approval>>([&](auto done) {
        store_->list_approvals(
            {.states = {ApprovalState::granted, ApprovalState::denied, ApprovalState::expired},
             .before_job_id = 3,
             .limit = 2},
            std::move(done));
    });
    ASSERT_TRUE(rest.ok());
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ((*rest)[0].job_id, 2);

    auto decided = wait_for<std::vector<Approval>>([&](auto done) {
        store_->list_approvals({.states = {ApprovalState::denied}, .limit = 10}, std::move(done));
    });
    ASSERT_TRUE(decided.ok()) << decided.error().message;
    ASSERT_EQ(decided->size(), 1u);
    EXPECT_EQ((*decided)[0].reason, "denied by irc:carol: not now");
    ASSERT_EQ((*decided)[0].votes.size(), 2u);
    EXPECT_FALSE((*decided)[0].votes[1].approve);
}

TEST_F(SqliteStoreTest, RefusesANewerSchema) {
    open();
    store_.reset();
    {
        SQLite::Database db(path_, SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO schema_version (version, applied_at_ms) VALUES (99, 0)");
    }

    auto opened = Store::open(path_, completions_.post());
    ASSERT_FALSE(opened.ok());
    EXPECT_NE(opened.error().message.find("schema version 99"), std::string::npos)
        << opened.error().message;
    EXPECT_NE(opened.error().message.find("newer"), std::string::npos) << opened.error().message;
}

TEST_F(SqliteStoreTest, SavedJobComesBackWithItsRuns) {
    Store& store = open();
    Job job = make_job(7);
    job.cancel_requested = true;
    job.env["EMPTY"] = "";
    RunRecord finished = make_run(70, 7, "web-01", RunState::failed);
    finished.exit_code = 2;
    finished.ended_at_ms = 1'700'000'000'900;
    finished.stdout_bytes = 5'000'000'000;  // over 32 bits
    finished.stderr_bytes = 12;
    finished.stored_bytes = 4'000;
    finished.truncated = true;
    finished.last_seq = 41;
    finished.error = "exited with 2";
    RunRecord killed = make_run(71, 7, "web-02", RunState::cancelled);
    killed.signal = 15;

    store.save_job(job);
    store.save_run(killed);
    store.save_run(finished);

    JobDetail detail = job_detail(7);
    expect_same_job(detail.job, job);
    ASSERT_EQ(detail.runs.size(), 2u);
    expect_same_run(detail.runs[0], finished);
    expect_same_run(detail.runs[1], killed);

    // Saving again replaces by id, and the runs stay attached.
    job.state = JobState::cancelled;
    job.finished_at_ms = job.created_at_ms + 1;
    store.save_job(job);
    detail = job_detail(7);
    expect_same_job(detail.job, job);
    EXPECT_EQ(detail.runs.size(), 2u);
}

// A state change rewrites the row's progress alone: what was asked (and the run's job and
// agent) is written once, so the update touches no index but the state's.
TEST_F(SqliteStoreTest, ASaveAfterTheFirstUpdatesProgressAndLeavesTheRequestAsFirstWritten) {
    Store& store = open();
    Job job = make_job(8, JobState::queued);
    store.save_job(job);
    RunRecord run = make_run(80, 8, "web-01", RunState::queued);
    store.save_run(run);

    Job later = job;
    later.state = JobState::succeeded;
    later.finished_at_ms = job.created_at_ms + 9;
    later.batch_window = 3;
    later.requester = "local:mallory";  // never changes in the controller; shows what is fixed
    later.argv = {"rm", "-rf", "/"};
    later.command = "other";
    store.save_job(later);
    RunRecord ended = run;
    ended.state = RunState::succeeded;
    ended.exit_code = 0;
    ended.last_seq = 4;
    ended.agent = "db-01";
    store.save_run(ended);

    JobDetail detail = job_detail(8);
    EXPECT_EQ(detail.job.state, JobState::succeeded);
    EXPECT_EQ(detail.job.finished_at_ms, later.finished_at_ms);
    EXPECT_EQ(detail.job.batch_window, 3);
    EXPECT_EQ(detail.job.requester, "local:alice");
    EXPECT_EQ(detail.job.argv, job.argv);
    EXPECT_EQ(detail.job.command, "");
    ASSERT_EQ(detail.runs.size(), 1u);
    EXPECT_EQ(detail.runs[0].state, RunState::succeeded);
    EXPECT_EQ(detail.runs[0].last_seq, 4u);
    EXPECT_EQ(detail.runs[0].agent, "web-01");
    EXPECT_EQ(list({.agent = "web-01"}).size(), 1u);
}

// A run made, started, streamed and ended within one group (the writes below are queued
// before the store thread wakes) is stored as last saved, with its chunks.
TEST_F(SqliteStoreTest, ARunSavedManyTimesInOneGroupIsStoredAsLastSavedWithItsOutput) {
    Store& store = open();
    store.save_job(make_job(9));
    RunRecord run = make_run(90, 9, "web-01", RunState::queued);
    store.save_run(run);
    run.state = RunState::running;
    store.save_run(run);
    run.stdout_bytes = 3;
    run.last_seq = 1;
    store.append_output(make_chunk(run, 1, "hi\n"), run);
    run.state = RunState::succeeded;
    run.exit_code = 0;
    run.last_seq = 2;
    run.ended_at_ms = run.started_at_ms + 4;
    store.save_run(run);

    JobDetail detail = job_detail(9);
    ASSERT_EQ(detail.runs.size(), 1u);
    expect_same_run(detail.runs[0], run);
    const auto chunks = output_of(9);
    ASSERT_EQ(chunks.size(), 1u);
    EXPECT_EQ(chunks[0].data, "hi\n");
}

// append_output() saves its run too, so it may be a run's first save, with more output
// behind it in the same group.
TEST_F(SqliteStoreTest, ARunFirstSavedWithItsFirstChunkIsStoredWithAllItsOutput) {
    Store& store = open();
    store.save_job(make_job(10));
    RunRecord run = make_run(100, 10, "web-01");
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        run.last_seq = seq;
        run.stored_bytes += 2;
        store.append_output(make_chunk(run, seq, std::to_string(seq) + "\n"), run);
    }
    JobDetail detail = job_detail(10);
    ASSERT_EQ(detail.runs.size(), 1u);
    expect_same_run(detail.runs[0], run);
    std::string text;
    for (const auto& chunk : output_of(10)) text += chunk.data;
    EXPECT_EQ(text, "1\n2\n3\n");
}

TEST_F(SqliteStoreTest, RunAsUserAndGroupComeBackEverywhereAJobIsRead) {
    Store& store = open();
    Job both = make_job(1);
    both.run_as_user = "deploy";
    both.run_as_group = "www-data";
    Job group_only = make_job(2);
    group_only.run_as_group = "adm";
    Job neither = make_job(3);
    store.save_job(both);
    store.save_job(group_only);
    store.save_job(neither);

    expect_same_job(job_detail(1).job, both);
    expect_same_job(job_detail(2).job, group_only);
    expect_same_job(job_detail(3).job, neither);
    EXPECT_EQ(job_detail(3).job.run_as_user, "");

    auto listed = list(JobQuery{});
    ASSERT_EQ(listed.size(), 3u);
    expect_same_job(listed[2], both);
    expect_same_job(listed[1], group_only);

    store_.reset();
    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->active_jobs.size(), 3u);
    expect_same_job(snapshot->active_jobs[0], both);
    expect_same_job(snapshot->active_jobs[1], group_only);
}

TEST_F(SqliteStoreTest, ActiveJobsAndTheirRunsAreInTheSnapshot) {
    Store& store = open();
    store.save_job(make_job(1, JobState::succeeded));
    store.save_run(make_run(1, 1, "web-01", RunState::succeeded));
    store.save_job(make_job(2, JobState::running));
    store.save_run(make_run(2, 2, "web-01", RunState::succeeded));
    store.save_run(make_run(3, 2, "web-02", RunState::running));
    store.save_job(make_job(3, JobState::pending_approval));
    store.save_job(make_job(4, JobState::cancelled));
    store.save_run(make_run(4, 4, "web-02", RunState::cancelled));
    AgentRecord agent{"web-01",           "pubkey", "web-01.example", "0.1.0", {{"role", "web"}},
                      {{"os", "debian"}}, 4,        1'700'000'000'000};
    store.save_agent(agent);
    store_.reset();  // commits everything queued

    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    EXPECT_EQ(ids_of(snapshot->active_jobs), (std::vector<std::int64_t>{2, 3}));
    expect_same_job(snapshot->active_jobs[0], make_job(2, JobState::running));
    ASSERT_EQ(snapshot->active_runs.size(), 2u);
    expect_same_run(snapshot->active_runs[0], make_run(2, 2, "web-01", RunState::succeeded));
    expect_same_run(snapshot->active_runs[1], make_run(3, 2, "web-02", RunState::running));
    ASSERT_EQ(snapshot->agents.size(), 1u);
    EXPECT_EQ(snapshot->agents[0].name, "web-01");
    EXPECT_EQ(snapshot->agents[0].public_key, "pubkey");
    EXPECT_EQ(snapshot->agents[0].hostname, "web-01.example");
    EXPECT_EQ(snapshot->agents[0].version, "0.1.0");
    EXPECT_EQ(snapshot->agents[0].labels, agent.labels);
    EXPECT_EQ(snapshot->agents[0].facts, agent.facts);
    EXPECT_EQ(snapshot->agents[0].capacity, 4u);
    EXPECT_EQ(snapshot->agents[0].last_seen_ms, agent.last_seen_ms);
}

TEST_F(SqliteStoreTest, MaxIdsSurviveReopen) {
    {
        auto empty = open().load();
        ASSERT_TRUE(empty.ok()) << empty.error().message;
        EXPECT_EQ(empty->max_job_id, 0);
        EXPECT_EQ(empty->max_run_id, 0);
    }
    // Finished jobs are not in the snapshot, but their ids must never be reused.
    store_->save_job(make_job(41, JobState::succeeded));
    store_->save_job(make_job(42, JobState::failed));
    store_->save_run(make_run(99, 42, "web-01", RunState::failed));
    store_.reset();

    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    EXPECT_EQ(snapshot->max_job_id, 42);
    EXPECT_EQ(snapshot->max_run_id, 99);
    EXPECT_TRUE(snapshot->active_jobs.empty());
}

TEST_F(SqliteStoreTest, OutputIsStoredOnceByRunAndSeq) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord run = make_run(10, 1, "web-01");
    store.save_run(run);

    run.last_seq = 1;
    run.stored_bytes = 6;
    store.append_output(make_chunk(run, 1, "first\n"), run);
    run.last_seq = 2;
    run.stored_bytes = 13;
    store.append_output(make_chunk(run, 2, "second\n"), run);
    // A resend of seq 1 with other bytes (as after a reconnect): the chunk is ignored, the run
    // is still saved.
    run.stdout_bytes = 13;
    store.append_output(make_chunk(run, 1, "resent\n"), run);

    auto chunks = output_of(1);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].seq, 1u);
    EXPECT_EQ(chunks[0].data, "first\n");
    EXPECT_EQ(chunks[0].agent, "web-01");
    EXPECT_EQ(chunks[0].stream, "stdout");
    EXPECT_EQ(chunks[1].seq, 2u);
    EXPECT_EQ(chunks[1].data, "second\n");
    JobDetail detail = job_detail(1);
    ASSERT_EQ(detail.runs.size(), 1u);
    expect_same_run(detail.runs[0], run);
}

// Schema 15 rebuilds `output` as a rowid table: output stored before the upgrade reads back
// byte for byte after it, and is still stored once by run and seq.
TEST_F(SqliteStoreTest, OutputStoredBeforeTheRowidMigrationReadsTheSameAfterIt) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord run = make_run(10, 1, "web-01");
    store.save_run(run);
    std::string binary(70000, '\0');
    for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7);
    run.last_seq = 1;
    store.append_output(make_chunk(run, 1, "first\n"), run);
    run.last_seq = 2;
    store.append_output(make_chunk(run, 2, binary), run);
    flush();
    store_.reset();
    {
        // As a controller before 15 left it: output WITHOUT ROWID, 15 not applied.
        SQLite::Database db(path_, SQLite::OPEN_READWRITE);
        db.exec(
            "ALTER TABLE output RENAME TO output_15;"
            "CREATE TABLE output (run_id INTEGER NOT NULL REFERENCES runs (id), seq INTEGER NOT "
            "NULL, stream TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT "
            "ROWID;"
            "INSERT INTO output SELECT run_id, seq, stream, data FROM output_15;"
            "DROP TABLE output_15;"
            "DELETE FROM schema_version WHERE version >= 15;");
        ASSERT_EQ(db.execAndGet("SELECT wr FROM pragma_table_list WHERE name = 'output'").getInt(),
                  1);
    }

    Store& upgraded = open();
    auto chunks = output_of(1);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].data, "first\n");
    EXPECT_EQ(chunks[1].data, binary);
    run.last_seq = 3;
    upgraded.append_output(make_chunk(run, 2, "resent\n"), run);  // ignored: stored already
    upgraded.append_output(make_chunk(run, 3, "third\n"), run);
    chunks = output_of(1);
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[1].data, binary);
    EXPECT_EQ(chunks[2].data, "third\n");
    store_.reset();
    SQLite::Database db(path_);
    EXPECT_EQ(db.execAndGet("SELECT wr FROM pragma_table_list WHERE name = 'output'").getInt(), 0)
        << "a rowid table now";
}

// A chunk the agent sent compressed is kept so (what SQLite writes is the fewer bytes) and
// reads back as the bytes the process wrote, beside chunks stored as they are; rows from
// before schema 16 are as they are.
TEST_F(SqliteStoreTest, CompressedOutputIsKeptCompressedAndReadsBackAsWritten) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord run = make_run(10, 1, "web-01");
    store.save_run(run);
    std::string lines;
    for (int i = 0; lines.size() < 150000; ++i) lines += "line " + std::to_string(i) + " ok\n";
    std::string scratch;
    const proto::CompressedChunk compressed = proto::compress_chunk(lines, scratch);
    ASSERT_EQ(compressed.consumed, lines.size());
    run.last_seq = 2;
    store.append_output(make_chunk(run, 1, "as written\n"), run);
    store.append_output(
        OutputChunk{run.id, run.agent, 2, "stdout", lines, std::string(compressed.bytes)}, run);
    auto chunks = output_of(1);
    ASSERT_EQ(chunks.size(), 2u);
    EXPECT_EQ(chunks[0].data, "as written\n");
    EXPECT_TRUE(chunks[1].data == lines) << "the compressed chunk reads back as written";
    const OutputSlice tail = output_range_of(
        1, OutputRange{.host = "web-01", .stream = "stdout", .offset = 11 + 149990, .length = 50});
    EXPECT_EQ(tail.total, static_cast<std::int64_t>(11 + lines.size()));
    EXPECT_EQ(tail.bytes, lines.substr(149990, 50));
    flush();
    store_.reset();

    SQLite::Database db(path_);
    SQLite::Statement rows(db, "SELECT seq, encoding, size, length(data) FROM output ORDER BY seq");
    ASSERT_TRUE(rows.executeStep());
    EXPECT_EQ(rows.getColumn(1).getString(), "");
    EXPECT_EQ(rows.getColumn(2).getInt64(), 0);
    ASSERT_TRUE(rows.executeStep());
    EXPECT_EQ(rows.getColumn(1).getString(), "lz4");
    EXPECT_EQ(rows.getColumn(2).getInt64(), static_cast<std::int64_t>(lines.size()));
    EXPECT_EQ(rows.getColumn(3).getInt64(), static_cast<std::int64_t>(compressed.bytes.size()));
    EXPECT_LT(compressed.bytes.size(), lines.size() / 2);
}

// A compressed row whose bytes do not decode is a damaged database: reading it is an error
// that names the chunk, never other bytes in its place.
TEST_F(SqliteStoreTest, ACompressedRowThatDoesNotDecodeIsAnErrorNamingIt) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord run = make_run(10, 1, "web-01");
    store.save_run(run);
    run.last_seq = 1;
    store.append_output(compressed_chunk(run, 1, "stdout", std::string(4000, 'q')), run);
    flush();
    store_.reset();
    {
        SQLite::Database db(path_, SQLite::OPEN_READWRITE);
        db.exec("UPDATE output SET size = size + 1");
    }
    open();
    auto read =
        wait_for<std::vector<OutputChunk>>([&](auto done) { store_->output(1, std::move(done)); });
    ASSERT_FALSE(read.ok());
    EXPECT_NE(read.error().message.find("output 1 of run #10 is damaged"), std::string::npos)
        << read.error().message;
}

TEST_F(SqliteStoreTest, BinaryOutputRoundTrips) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord first = make_run(1, 1, "web-01");
    RunRecord second = make_run(2, 1, "web-02");
    store.save_run(first);
    store.save_run(second);

    std::string every_byte;
    for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
    OutputChunk stderr_chunk = make_chunk(second, 1, every_byte + every_byte);
    stderr_chunk.stream = "stderr";
    store.append_output(stderr_chunk, second);
    store.append_output(make_chunk(first, 2, std::string(3, '\0')), first);
    store.append_output(make_chunk(first, 1, every_byte), first);
    store.append_output(make_chunk(first, 3, ""), first);

    auto chunks = output_of(1);
    ASSERT_EQ(chunks.size(), 4u);  // by run id, then seq
    EXPECT_EQ(chunks[0].run_id, 1);
    EXPECT_EQ(chunks[0].seq, 1u);
    EXPECT_EQ(chunks[0].data, every_byte);
    EXPECT_EQ(chunks[1].data, std::string(3, '\0'));
    EXPECT_EQ(chunks[2].seq, 3u);
    EXPECT_EQ(chunks[2].data, "");
    EXPECT_EQ(chunks[3].run_id, 2);
    EXPECT_EQ(chunks[3].agent, "web-02");
    EXPECT_EQ(chunks[3].stream, "stderr");
    EXPECT_EQ(chunks[3].data, every_byte + every_byte);
}

// A host's output as the API served it before ranges were read from the store: output()'s
// chunks of that host, by run then seq, of one stream or both.
std::string whole_output(const std::vector<OutputChunk>& chunks, const std::string& host,
                         const std::string& stream) {
    std::string bytes;
    for (const auto& chunk : chunks)
        if (chunk.agent == host && (stream == "combined" || chunk.stream == stream))
            bytes += chunk.data;
    return bytes;
}

// web-01 ran twice (a retry: run 10, then run 12), with stdout and stderr interleaved, an
// empty chunk and one the agent sent compressed; web-02's run 11 sits between them by id.
void store_retried_output(Store& store) {
    store.save_job(make_job(1));
    RunRecord first = make_run(10, 1, "web-01");
    RunRecord other = make_run(11, 1, "web-02");
    RunRecord retry = make_run(12, 1, "web-01");
    for (const auto& run : {first, other, retry}) store.save_run(run);
    const auto chunk = [](const RunRecord& run, std::uint64_t seq, std::string stream,
                          std::string data) {
        return OutputChunk{run.id, run.agent, seq, std::move(stream), std::move(data)};
    };
    // Out of seq order, as a resend after a reconnect can store them.
    store.append_output(chunk(first, 3, "stdout", "line two\n"), first);
    store.append_output(chunk(first, 1, "stdout", "line one\n"), first);
    store.append_output(chunk(first, 2, "stderr", "warning: disk\n"), first);
    store.append_output(chunk(first, 4, "stdout", ""), first);
    store.append_output(chunk(other, 1, "stdout", "not web-01's\n"), other);
    store.append_output(chunk(retry, 1, "stderr", "retrying\n"), retry);
    store.append_output(compressed_chunk(retry, 2, "stdout", std::string(5000, 'x')), retry);
    store.append_output(chunk(retry, 3, "stdout", "done\n"), retry);
}

TEST_F(SqliteStoreTest, OutputRangesAreExactlyTheSliceOfTheWholeOutputForEveryRange) {
    Store& store = open();
    store_retried_output(store);
    const auto chunks = output_of(1);
    for (const std::string host : {"web-01", "web-02"}) {
        for (const std::string stream : {"combined", "stdout", "stderr"}) {
            const std::string whole = whole_output(chunks, host, stream);
            const auto total = static_cast<std::int64_t>(whole.size());
            // Every chunk boundary, one byte either side, the end and past it, as offsets and
            // as ends of ranges.
            std::vector<std::int64_t> points = {0, 1, total - 1, total, total + 1, total + 100};
            std::int64_t boundary = 0;
            for (const auto& chunk : chunks) {
                if (chunk.agent != host || (stream != "combined" && chunk.stream != stream))
                    continue;
                boundary += static_cast<std::int64_t>(chunk.data.size());
                for (std::int64_t near : {boundary - 1, boundary, boundary + 1})
                    points.push_back(near);
            }
            for (const std::int64_t offset : points) {
                if (offset < 0) continue;
                for (const std::int64_t end : points) {
                    if (end < offset) continue;
                    const OutputRange range{
                        .host = host, .stream = stream, .offset = offset, .length = end - offset};
                    const OutputSlice slice = output_range_of(1, range);
                    const auto from = static_cast<std::size_t>(std::min(offset, total));
                    ASSERT_EQ(slice.total, total) << host << " " << stream;
                    ASSERT_EQ(slice.bytes,
                              whole.substr(from, static_cast<std::size_t>(end - offset)))
                        << host << " " << stream << " [" << offset << ", " << end << ")";
                }
            }
        }
    }
}

// Read piece by piece, each range resumed where the one before left off (as a download
// reads), an output comes out exactly as in one read, for every piece size and stream.
TEST_F(SqliteStoreTest, RangesResumedFromTheLastCursorReadTheOutputExactlyOnce) {
    Store& store = open();
    store_retried_output(store);
    const auto chunks = output_of(1);
    for (const std::string stream : {"combined", "stdout", "stderr"}) {
        const std::string whole = whole_output(chunks, "web-01", stream);
        for (const std::int64_t piece : {4, 9, 10, 14, 23, 1000, 4999, 5000, 6000}) {
            OutputRange range{.host = "web-01", .stream = stream, .offset = 0, .length = piece};
            OutputSlice slice = output_range_of(1, range);
            ASSERT_EQ(slice.total, static_cast<std::int64_t>(whole.size()));
            std::string read = slice.bytes;
            int reads = 1;
            while (slice.next) {
                range.offset += static_cast<std::int64_t>(slice.bytes.size());
                range.resume = slice.next;
                slice = output_range_of(1, range);
                EXPECT_EQ(slice.total, -1) << "a resumed read does not count to the end";
                ASSERT_FALSE(slice.bytes.empty()) << stream << " piece " << piece;
                read += slice.bytes;
                ASSERT_LE(++reads, static_cast<int>(whole.size()) + 1);
            }
            EXPECT_TRUE(read == whole) << stream << " piece " << piece << ": " << read.size()
                                       << " bytes read of " << whole.size();
        }
    }
}

TEST_F(SqliteStoreTest, AnOutputRangeAcrossChunksAndRunsHasTheBytesInRunThenSeqOrder) {
    Store& store = open();
    store_retried_output(store);
    // From inside run 10's last stdout chunk, across its empty one, into the retry's stdout.
    auto slice =
        output_range_of(1, {.host = "web-01", .stream = "stdout", .offset = 14, .length = 6});
    EXPECT_EQ(slice.bytes, "two\nxx");
    EXPECT_EQ(slice.total, 18 + 5000 + 5);
    // Combined: both streams in seq order, each attempt whole.
    slice = output_range_of(1, {.host = "web-01", .offset = 0, .length = 41});
    EXPECT_EQ(slice.bytes, "line one\nwarning: disk\nline two\nretrying\n");
    EXPECT_EQ(slice.total, 9 + 14 + 9 + 9 + 5000 + 5);
    slice = output_range_of(1, {.host = "web-01", .stream = "stderr", .offset = 12, .length = 10});
    EXPECT_EQ(slice.bytes, "k\nretrying");
    EXPECT_EQ(slice.total, 23);
    // The last bytes, then past the end: nothing, and the total to know it.
    slice = output_range_of(1, {.host = "web-01", .offset = 5041, .length = 100});
    EXPECT_EQ(slice.bytes, "done\n");
    slice = output_range_of(1, {.host = "web-01", .offset = 9999, .length = 100});
    EXPECT_EQ(slice.bytes, "");
    EXPECT_EQ(slice.total, 5046);
    // No integer overflow at the far end of the offsets.
    slice = output_range_of(
        1,
        {.host = "web-01", .offset = std::numeric_limits<std::int64_t>::max(), .length = 1 << 20});
    EXPECT_EQ(slice.bytes, "");
    EXPECT_EQ(slice.total, 5046);
}

TEST_F(SqliteStoreTest, AnOutputRangeOfAHostWithoutRunsIsEmptyAndOfAnUnknownJobAnError) {
    Store& store = open();
    store_retried_output(store);
    const auto slice = output_range_of(1, {.host = "db-01", .offset = 0, .length = 100});
    EXPECT_EQ(slice.bytes, "");
    EXPECT_EQ(slice.total, 0);

    auto missing = wait_for<OutputSlice>([&](auto done) {
        store.output_range(12345, {.host = "web-01", .length = 10}, std::move(done));
    });
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "no job #12345");
}

// Bytes this process has read with read() so far (/proc/self/io): the store's reads of the
// database, which has no mmap.
std::int64_t bytes_read_so_far() {
    std::ifstream io("/proc/self/io");
    std::string line;
    while (std::getline(io, line))
        if (line.starts_with("rchar:")) return std::stoll(line.substr(6));
    return -1;
}

// The cost that made ranges worth reading from the store: 4 KiB of a 1 GiB output read all of
// it (and so did every scan of `output` bounded by run, since its records are its keys). The
// output here is 64 MiB, far beyond SQLite's page cache.
TEST_F(SqliteStoreTest, AnOutputRangeReadsAboutTheRangeNotTheWholeOutput) {
    Store& store = open();
    store.save_job(make_job(1));
    RunRecord run = make_run(10, 1, "web-01");
    store.save_run(run);
    constexpr std::int64_t kChunks = 1024, kChunkBytes = 64 * 1024;
    for (std::int64_t seq = 1; seq <= kChunks; ++seq) {
        run.last_seq = static_cast<std::uint64_t>(seq);
        store.append_output(make_chunk(run, run.last_seq,
                                       std::string(kChunkBytes, static_cast<char>('a' + seq % 26))),
                            run);
    }
    flush();

    const std::int64_t before = bytes_read_so_far();
    ASSERT_GE(before, 0);
    const auto slice = output_range_of(
        1, {.host = "web-01", .offset = kChunks * kChunkBytes - 4096, .length = 4096});
    const std::int64_t read = bytes_read_so_far() - before;
    EXPECT_EQ(slice.total, kChunks * kChunkBytes);
    EXPECT_EQ(slice.bytes, std::string(4096, static_cast<char>('a' + kChunks % 26)));
    EXPECT_LT(read, 4 << 20) << "read " << read << " bytes for 4 KiB of a 64 MiB output";
}

TEST_F(SqliteStoreTest, ListJobsFiltersByStateAndAgentAndPages) {
    Store& store = open();
    // Jobs 1..20: odd ones succeeded, even ones failed; every job runs on web-01, jobs divisible
    // by 3 also on db-01 (job 6 twice there, as a retried run would).
    std::int64_t run_id = 0;
    for (std::int64_t id = 1; id <= 20; ++id) {
        store.save_job(make_job(id, id % 2 ? JobState::succeeded : JobState::failed));
        store.save_run(make_run(++run_id, id, "web-01", RunState::succeeded));
        if (id % 3 == 0) store.save_run(make_run(++run_id, id, "db-01", RunState::succeeded));
    }
    store.save_run(make_run(++run_id, 6, "db-01", RunState::failed));

    JobQuery newest;
    newest.limit = 3;
    EXPECT_EQ(ids_of(list(newest)), (std::vector<std::int64_t>{20, 19, 18}));

    JobQuery next_page = newest;
    next_page.before_id = 18;
    EXPECT_EQ(ids_of(list(next_page)), (std::vector<std::int64_t>{17, 16, 15}));

    JobQuery failed;
    failed.states = {JobState::failed};
    failed.before_id = 15;
    EXPECT_EQ(ids_of(list(failed)), (std::vector<std::int64_t>{14, 12, 10, 8, 6, 4, 2}));

    JobQuery on_db;
    on_db.agent = "db-01";
    EXPECT_EQ(ids_of(list(on_db)), (std::vector<std::int64_t>{18, 15, 12, 9, 6, 3}));
    on_db.before_id = 12;
    on_db.limit = 2;
    EXPECT_EQ(ids_of(list(on_db)), (std::vector<std::int64_t>{9, 6}));

    JobQuery failed_on_db;
    failed_on_db.agent = "db-01";
    failed_on_db.states = {JobState::failed};
    EXPECT_EQ(ids_of(list(failed_on_db)), (std::vector<std::int64_t>{18, 12, 6}));
    expect_same_job(list(failed_on_db)[2], make_job(6, JobState::failed));

    JobQuery nowhere;
    nowhere.agent = "mail-01";
    EXPECT_TRUE(list(nowhere).empty());

    JobQuery bobs;
    bobs.requester = "slack:U0BOB";
    EXPECT_TRUE(list(bobs).empty()) << "every job so far is local:alice's";
    for (std::int64_t id = 21; id <= 24; ++id) {
        Job job = make_job(id, id == 23 ? JobState::failed : JobState::succeeded);
        job.requester = "slack:U0BOB";
        store.save_job(job);
        store.save_run(make_run(++run_id, id, id == 24 ? "db-01" : "web-01", RunState::succeeded));
    }
    EXPECT_EQ(ids_of(list(bobs)), (std::vector<std::int64_t>{24, 23, 22, 21}));
    bobs.before_id = 24;
    bobs.limit = 2;
    EXPECT_EQ(ids_of(list(bobs)), (std::vector<std::int64_t>{23, 22}));
    bobs.states = {JobState::failed};
    EXPECT_EQ(ids_of(list(bobs)), (std::vector<std::int64_t>{23}));
    JobQuery bobs_on_db;
    bobs_on_db.requester = "slack:U0BOB";
    bobs_on_db.agent = "db-01";
    EXPECT_EQ(ids_of(list(bobs_on_db)), (std::vector<std::int64_t>{24}));
    JobQuery alices;
    alices.requester = "local:alice";
    alices.limit = 2;
    EXPECT_EQ(ids_of(list(alices)), (std::vector<std::int64_t>{20, 19}));
    EXPECT_TRUE(list(nowhere).empty());

    JobQuery huge;
    huge.limit = 1'000'000;
    EXPECT_EQ(list(huge).size(), 24u);
}

TEST_F(SqliteStoreTest, ListJobsFiltersByStatesCommandAndTimeAndPagesTheSame) {
    Store& store = open();
    // 1..12: every third a catalog "bounce", the others ad-hoc uptime (argv[0]) or, for
    // 2 and 8, ad-hoc "bounce" too; states cycle running, failed, timed_out.
    const JobState cycle[] = {JobState::running, JobState::failed, JobState::timed_out};
    for (std::int64_t id = 1; id <= 12; ++id) {
        Job job = make_job(id, cycle[id % 3]);
        if (id % 3 == 0) job.command = "bounce";
        if (id == 2 || id == 8) job.argv = {"bounce", "now"};
        store.save_job(job);
    }
    // A catalog command whose argv[0] is "uptime" is not an ad-hoc "uptime".
    Job catalog = make_job(13, JobState::running);
    catalog.command = "report";
    store.save_job(catalog);

    JobQuery two_states;
    two_states.states = {JobState::failed, JobState::timed_out};
    EXPECT_EQ(ids_of(list(two_states)), (std::vector<std::int64_t>{11, 10, 8, 7, 5, 4, 2, 1}));
    two_states.limit = 3;
    two_states.before_id = 8;
    EXPECT_EQ(ids_of(list(two_states)), (std::vector<std::int64_t>{7, 5, 4}));

    JobQuery bounce;
    bounce.command = "bounce";
    EXPECT_EQ(ids_of(list(bounce)), (std::vector<std::int64_t>{12, 9, 8, 6, 3, 2}));
    JobQuery uptime;
    uptime.command = "uptime";
    EXPECT_EQ(ids_of(list(uptime)), (std::vector<std::int64_t>{11, 10, 7, 5, 4, 1}));

    // created_at_ms is 1'700'000'000'000 + id: since is inclusive, until exclusive.
    JobQuery window;
    window.since_ms = 1'700'000'000'000 + 4;
    window.until_ms = 1'700'000'000'000 + 9;
    EXPECT_EQ(ids_of(list(window)), (std::vector<std::int64_t>{8, 7, 6, 5, 4}));
    window.command = "bounce";
    window.states = {JobState::timed_out};
    EXPECT_EQ(ids_of(list(window)), (std::vector<std::int64_t>{8}));

    for (std::int64_t id = 1; id <= 4; ++id)
        store.save_run(make_run(id, id, id % 2 == 0 ? "db-01" : "web-01", RunState::succeeded));
    JobQuery on_db;
    on_db.agent = "db-01";
    on_db.command = "bounce";
    EXPECT_EQ(ids_of(list(on_db)), (std::vector<std::int64_t>{2}));
}

// Several states are listed by merging one index walk per state: a state named twice must
// not list its jobs twice, and paging crosses from one state's jobs to the other's.
TEST_F(SqliteStoreTest, ListJobsNamesEachJobOnceWhenAStateIsRepeated) {
    Store& store = open();
    const JobState cycle[] = {JobState::succeeded, JobState::failed, JobState::timed_out};
    for (std::int64_t id = 1; id <= 9; ++id) store.save_job(make_job(id, cycle[id % 3]));

    JobQuery repeated;
    repeated.states = {JobState::timed_out, JobState::failed, JobState::timed_out};
    EXPECT_EQ(ids_of(list(repeated)), (std::vector<std::int64_t>{8, 7, 5, 4, 2, 1}));
    repeated.limit = 2;
    repeated.before_id = 7;
    EXPECT_EQ(ids_of(list(repeated)), (std::vector<std::int64_t>{5, 4}));
}

// Filtered by states none of which is final, the list walks those states' jobs and checks
// the host on each (not the host's runs): the same answers, each job once.
TEST_F(SqliteStoreTest, ListJobsOfActiveStatesOnAHostAnswerAsAnyOtherFilter) {
    Store& store = open();
    // 1..12: running, succeeded, queued, running, ... (id % 3 picks); every job runs on
    // web-01, even ones also twice on db-01; 5..8 are bob's and run "deploy".
    const JobState cycle[] = {JobState::queued, JobState::running, JobState::succeeded};
    std::int64_t run_id = 0;
    for (std::int64_t id = 1; id <= 12; ++id) {
        Job job = make_job(id, cycle[id % 3]);
        if (id >= 5 && id <= 8) {
            job.requester = "slack:U0BOB";
            job.command = "deploy";
        }
        store.save_job(job);
        store.save_run(make_run(++run_id, id, "web-01"));
        if (id % 2 == 0) {
            store.save_run(make_run(++run_id, id, "db-01"));
            store.save_run(make_run(++run_id, id, "db-01"));
        }
    }

    JobQuery running_on_db;
    running_on_db.states = {JobState::running};
    running_on_db.agent = "db-01";
    EXPECT_EQ(ids_of(list(running_on_db)), (std::vector<std::int64_t>{10, 4}));

    JobQuery in_flight_on_db;
    in_flight_on_db.states = {JobState::queued, JobState::running};
    in_flight_on_db.agent = "db-01";
    EXPECT_EQ(ids_of(list(in_flight_on_db)), (std::vector<std::int64_t>{12, 10, 6, 4}));
    in_flight_on_db.before_id = 12;
    in_flight_on_db.limit = 2;
    EXPECT_EQ(ids_of(list(in_flight_on_db)), (std::vector<std::int64_t>{10, 6}));

    JobQuery bobs_deploys_in_flight;
    bobs_deploys_in_flight.states = {JobState::queued, JobState::running};
    bobs_deploys_in_flight.requester = "slack:U0BOB";
    bobs_deploys_in_flight.command = "deploy";
    EXPECT_EQ(ids_of(list(bobs_deploys_in_flight)), (std::vector<std::int64_t>{7, 6}));
    bobs_deploys_in_flight.agent = "web-01";
    EXPECT_EQ(ids_of(list(bobs_deploys_in_flight)), (std::vector<std::int64_t>{7, 6}));
    bobs_deploys_in_flight.agent = "db-01";
    EXPECT_EQ(ids_of(list(bobs_deploys_in_flight)), (std::vector<std::int64_t>{6}));
    bobs_deploys_in_flight.agent = "mail-01";
    EXPECT_TRUE(list(bobs_deploys_in_flight).empty());
}

// since and until read a window of few jobs through jobs_by_created and a window of many by
// id: either way the answer is every job created in the window, newest id first, even a job
// whose clock stepped back.
TEST_F(SqliteStoreTest, ListJobsByTimeAnswersTheSameForShortAndLongWindows) {
    Store& store = open();
    constexpr std::int64_t kBase = 1'700'000'000'000;  // make_job: created_at_ms = kBase + id
    for (std::int64_t id = 1; id <= 1100; ++id) store.save_job(make_job(id, JobState::succeeded));
    Job stepped_back = make_job(1101, JobState::failed);
    stepped_back.created_at_ms = kBase + 3;
    store.save_job(stepped_back);

    JobQuery long_since;  // 1,052 jobs in the window
    long_since.since_ms = kBase + 50;
    long_since.limit = 3;
    EXPECT_EQ(ids_of(list(long_since)), (std::vector<std::int64_t>{1100, 1099, 1098}));
    long_since.before_id = 55;
    long_since.limit = 50;
    EXPECT_EQ(ids_of(list(long_since)), (std::vector<std::int64_t>{54, 53, 52, 51, 50}));

    JobQuery short_since;  // 11 jobs
    short_since.since_ms = kBase + 1090;
    EXPECT_EQ(list(short_since).size(), 11u);
    EXPECT_EQ(list(short_since).front().id, 1100);
    short_since.limit = 2;
    short_since.before_id = 1095;
    EXPECT_EQ(ids_of(list(short_since)), (std::vector<std::int64_t>{1094, 1093}));

    JobQuery short_until;  // 1..4 and the job whose clock stepped back
    short_until.until_ms = kBase + 5;
    EXPECT_EQ(ids_of(list(short_until)), (std::vector<std::int64_t>{1101, 4, 3, 2, 1}));
    short_until.states = {JobState::failed};
    EXPECT_EQ(ids_of(list(short_until)), (std::vector<std::int64_t>{1101}));

    JobQuery long_until;  // 1,050 jobs
    long_until.until_ms = kBase + 1050;
    long_until.limit = 2;
    EXPECT_EQ(ids_of(list(long_until)), (std::vector<std::int64_t>{1101, 1049}));
    long_until.before_id = 3;
    EXPECT_EQ(ids_of(list(long_until)), (std::vector<std::int64_t>{2, 1}));
}

TEST_F(SqliteStoreTest, ListJobsIsCappedAt500) {
    Store& store = open();
    for (std::int64_t id = 1; id <= 600; ++id) store.save_job(make_job(id));
    JobQuery query;
    query.limit = 10'000;
    auto jobs = list(query);
    ASSERT_EQ(jobs.size(), 500u);
    EXPECT_EQ(jobs.front().id, 600);
    EXPECT_EQ(jobs.back().id, 101);
}

TEST_F(SqliteStoreTest, ReadsSeeEarlierQueuedWrites) {
    Store& store = open();
    // No flush or on_committed between the writes and the reads.
    store.save_job(make_job(5));
    store.save_run(make_run(50, 5, "web-01"));
    RunRecord run = make_run(50, 5, "web-01");
    run.last_seq = 1;
    store.append_output(make_chunk(run, 1, "hello\n"), run);
    AgentRecord agent;
    agent.name = "web-01";
    store.save_agent(agent);

    std::vector<std::string> order;
    std::optional<Result<JobDetail>> detail;
    std::optional<Result<std::vector<OutputChunk>>> output;
    std::optional<Result<std::vector<AgentRecord>>> agents;
    store.job(5, [&](Result<JobDetail> r) {
        detail.emplace(std::move(r));
        order.push_back("job");
    });
    store.output(5, [&](Result<std::vector<OutputChunk>> r) {
        output.emplace(std::move(r));
        order.push_back("output");
    });
    store.agents([&](Result<std::vector<AgentRecord>> r) {
        agents.emplace(std::move(r));
        order.push_back("agents");
    });
    ASSERT_TRUE(completions_.run_until([&] { return agents.has_value(); }));

    EXPECT_EQ(order, (std::vector<std::string>{"job", "output", "agents"}));
    ASSERT_TRUE(detail->ok());
    EXPECT_EQ((*detail)->runs.size(), 1u);
    EXPECT_EQ((*detail)->runs[0].last_seq, 1u);
    ASSERT_TRUE(output->ok());
    EXPECT_EQ((*output)->size(), 1u);
    ASSERT_TRUE(agents->ok());
    ASSERT_EQ((*agents)->size(), 1u);
    EXPECT_EQ((**agents)[0].name, "web-01");
}

TEST_F(SqliteStoreTest, OnCommittedRunsAfterCommit) {
    Store& store = open();
    SQLite::Database other(path_);  // a second connection, as another process would see it

    bool job_committed = false;
    int row_count_then = -1;
    store.save_job(make_job(3), [&] {
        job_committed = true;
        row_count_then = other.execAndGet("SELECT COUNT(*) FROM jobs WHERE id = 3").getInt();
    });
    ASSERT_TRUE(completions_.run_until([&] { return job_committed; }));
    EXPECT_EQ(row_count_then, 1);

    // In order, one for each write.
    std::vector<int> committed;
    for (int i = 1; i <= 5; ++i) {
        store.save_run(make_run(i, 3, "web-01"), [&committed, i] { committed.push_back(i); });
    }
    ASSERT_TRUE(completions_.run_until([&] { return committed.size() == 5; }));
    EXPECT_EQ(committed, (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(other.execAndGet("SELECT COUNT(*) FROM runs").getInt(), 5);
}

// Skipping a refused write would leave a hole (a chunk missing under a later, acknowledged
// one); stopping loses nothing, since agents keep what is not acknowledged in their spools.
TEST_F(SqliteStoreTest, AWriteTheDatabaseRefusesStopsTheControllerRatherThanLeaveAHole) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            Store& store = open();
            store.save_job(make_job(1));
            store.save_run(make_run(1, 404, "web-01"));  // no job #404
            flush();
        },
        "could not save run #1: FOREIGN KEY constraint failed; stopping, so that nothing "
        "acknowledged is lost");
}

TEST_F(SqliteStoreTest, ManyWritesAreGroupedIntoFewTransactions) {
    Store& store = open();
    store.save_job(make_job(1));
    flush();

    // Another connection holds the write lock while the writes are queued, so they are all
    // waiting when the store thread gets to them (it waits on the busy timeout meanwhile).
    SQLite::Database other(path_, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    constexpr int kWrites = 10'000;
    std::vector<int> committed;
    committed.reserve(kWrites);
    const std::size_t posted_before = completions_.posted();
    for (int i = 1; i <= kWrites; ++i) {
        RunRecord run = make_run(i, 1, i % 2 ? "web-01" : "web-02", RunState::succeeded);
        run.last_seq = static_cast<std::uint64_t>(i);
        store.save_run(run, [&committed, i] { committed.push_back(i); });
    }
    other.exec("COMMIT");

    ASSERT_TRUE(completions_.run_until([&] { return committed.size() == kWrites; }));
    for (int i = 0; i < kWrites; ++i) ASSERT_EQ(committed[static_cast<std::size_t>(i)], i + 1);
    // One completion task is posted per committed group. A group ends at 500 writes or after
    // ~5 ms, so how many there are depends on the machine; one per write would be 10,000.
    EXPECT_LE(completions_.posted() - posted_before, static_cast<std::size_t>(kWrites / 10));

    JobDetail detail = job_detail(1);
    ASSERT_EQ(detail.runs.size(), static_cast<std::size_t>(kWrites));
    EXPECT_EQ(detail.runs.back().id, kWrites);
    EXPECT_EQ(detail.runs.back().last_seq, static_cast<std::uint64_t>(kWrites));
    EXPECT_EQ(other.execAndGet("SELECT COUNT(*) FROM runs").getInt(), kWrites);
}

// Checkpoints run on a thread of their own (wal_checkpointer.hpp), not in the commits: the log
// must still be copied into the database, and stay bounded when writes never pause.
TEST_F(SqliteStoreTest, TheWriteAheadLogIsCopiedBackAndStaysBoundedUnderConstantWrites) {
    Store& store = open();
    store.save_job(make_job(1));
    const RunRecord run = make_run(1, 1, "web-01");
    store.save_run(run);
    flush();
    const std::string data(64 * 1024, 'x');  // ~17 pages of the log a commit
    std::uint64_t seq = 0;
    auto write_chunks = [&](int count) {
        for (int i = 0; i < count; ++i) {
            store.append_output(make_chunk(run, ++seq, data), run, {});
            flush();  // a commit each, as output acknowledged one chunk at a time is
        }
    };

    // ~1,700 pages, past the 1,000 at which a checkpoint is due, then nothing more. What the
    // first 1,000 pages hold (~58 chunks) reaches the database file; the rest may stay in the
    // log, which restarts once copied, until it is 1,000 pages again.
    write_chunks(100);
    const auto copied = [&] { return std::filesystem::file_size(path_) >= 50 * data.size(); };
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!copied() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(copied()) << "the log was not copied into the database file: "
                          << std::filesystem::file_size(path_) << " bytes";

    // ~6,800 pages more without a pause: the log may outgrow 1,000 pages while the thread
    // catches up, never the 4,000 (16 MiB) past which the writer copies it itself.
    write_chunks(400);
    EXPECT_LE(std::filesystem::file_size(path_ + "-wal"), std::uintmax_t{17} << 20);
    EXPECT_EQ(output_of(1).size(), 500u);
}

TEST_F(SqliteStoreTest, MissingJobIsAnErrorNamingIt) {
    Store& store = open();
    store.save_job(make_job(1));

    auto detail = wait_for<JobDetail>([&](auto done) { store.job(12345, std::move(done)); });
    ASSERT_FALSE(detail.ok());
    EXPECT_EQ(detail.error().message, "no job #12345");

    auto output = wait_for<std::vector<OutputChunk>>(
        [&](auto done) { store.output(12345, std::move(done)); });
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(output.error().message, "no job #12345");
}

TEST_F(SqliteStoreTest, CannotOpenIsAnError) {
    auto opened = Store::open((dir_ / "missing" / "hostline.db").string(), completions_.post());
    ASSERT_FALSE(opened.ok());
    EXPECT_NE(opened.error().message.find("missing/hostline.db"), std::string::npos)
        << opened.error().message;
}

// The snapshot carries the content so that runs re-sent after a restart carry it; listings
// and details, which may hold hundreds of jobs, leave it out.
TEST_F(SqliteStoreTest, TheScriptComesBackOnlyInTheSnapshot) {
    Store& store = open();
    Job script = make_job(1);
    script.argv = {"/bin/sh", "scripts/who.sh"};
    script.script = std::string("echo runbook\n\0\xff", 15);  // any bytes
    script.script_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    store.save_job(script);
    store.save_job(make_job(2));

    EXPECT_EQ(job_detail(1).job.script_sha256, script.script_sha256);
    EXPECT_EQ(job_detail(1).job.script, "");
    EXPECT_EQ(job_detail(2).job.script_sha256, "");
    auto listed = list(JobQuery{});
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[1].script_sha256, script.script_sha256);

    store_.reset();
    auto snapshot = open().load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->active_jobs.size(), 2u);
    EXPECT_EQ(snapshot->active_jobs[0].script_sha256, script.script_sha256);
    EXPECT_EQ(snapshot->active_jobs[0].script, script.script);
    EXPECT_EQ(snapshot->active_jobs[1].script_sha256, "");
    EXPECT_EQ(snapshot->active_jobs[1].script, "");
}

}  // namespace
}  // namespace hostline::controller
