// The SQLite store: the only file that includes SQLiteCpp.
//
// SqliteStore is a thin facade that queues tasks; Connection owns the database and runs on
// the store thread, one task at a time, so it needs no locks. SQLiteCpp throws; every
// exception is caught here and becomes a Result error (reads, open) or a logged, skipped write.
#include <SQLiteCpp/SQLiteCpp.h>
#include <pthread.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/log/module_logger.hpp"
#include "common/proto/output_encoding.hpp"
#include "controller/store/audit_chain.hpp"
#include "controller/store/job_list_query.hpp"
#include "controller/store/sqlite_database.hpp"
#include "controller/store/store.hpp"
#include "controller/store/wal_checkpointer.hpp"

static constinit hostline::log::ModuleLogger logger{"store"};

namespace hostline::controller {
namespace {

constexpr std::size_t kMaxGroupWrites = 500;
constexpr auto kMaxGroupTime = std::chrono::milliseconds(5);
constexpr int kMaxListLimit = 500;

[[noreturn]] void die(std::string_view what) {
    logger->critical("{}", what);
    std::abort();
}

// Prepares one of our own statements. SQL that does not compile (SQLITE_ERROR: syntax, no
// such table) is a bug, so it aborts; anything else (I/O, memory) is thrown as usual.
SQLite::Statement prepare(const SQLite::Database& db, const std::string& sql) {
    try {
        return SQLite::Statement(db, sql);
    } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() == SQLITE_ERROR)
            die(fmt::format("cannot prepare `{}`: {}", sql, e.what()));
        throw;
    }
}

// A cached statement in use: reset on entry (whatever its last use left behind) and on exit,
// so it never holds a read snapshot open between tasks.
class Use {
  public:
    explicit Use(SQLite::Statement& statement) : statement_(statement) {
        statement_.tryReset();
        statement_.clearBindings();
    }
    ~Use() { statement_.tryReset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    SQLite::Statement* operator->() { return &statement_; }
    SQLite::Statement& operator*() { return statement_; }

  private:
    SQLite::Statement& statement_;
};

void execute(SQLite::Statement& statement) {
    Use use(statement);
    use->exec();
}

// An output chunk as its row keeps it: compressed when the agent sent it so (the bytes SQLite
// writes, twice with the log, are then the fewer), else the bytes as written.
struct StoredChunk {
    std::int64_t run_id = 0;
    std::uint64_t seq = 0;
    std::string stream;
    std::string bytes;
    std::string encoding;   // proto::kEncodingRaw or kEncodingLz4
    std::int64_t size = 0;  // the bytes' decoded size when encoded; 0 when raw

    static StoredChunk of(const OutputChunk& chunk) {
        if (chunk.compressed.empty()) return {chunk.run_id, chunk.seq, chunk.stream, chunk.data};
        return {chunk.run_id,
                chunk.seq,
                chunk.stream,
                chunk.compressed,
                std::string(proto::kEncodingLz4),
                static_cast<std::int64_t>(chunk.data.size())};
    }
};

// Values bound by position, in the order of a table's column list.
struct Blob {
    const std::string& bytes;
};

void bind_value(SQLite::Statement& s, int i, std::int64_t v) {
    s.bind(i, v);
}
void bind_value(SQLite::Statement& s, int i, std::uint64_t v) {
    s.bind(i, static_cast<std::int64_t>(v));
}
void bind_value(SQLite::Statement& s, int i, bool v) {
    s.bind(i, v ? 1 : 0);
}
void bind_value(SQLite::Statement& s, int i, const std::string& v) {
    s.bind(i, v);
}
void bind_value(SQLite::Statement& s, int i, std::string_view v) {
    s.bind(i, std::string(v));
}
void bind_value(SQLite::Statement& s, int i, std::optional<int> v) {
    if (v) {
        s.bind(i, *v);
    } else {
        s.bind(i);
    }
}
// An id where 0 means none: stored as NULL.
struct NullableId {
    std::int64_t id;
};
void bind_value(SQLite::Statement& s, int i, NullableId v) {
    if (v.id != 0) {
        s.bind(i, v.id);
    } else {
        s.bind(i);
    }
}
void bind_value(SQLite::Statement& s, int i, Blob v) {
    s.bind(i, v.bytes.data(), static_cast<int>(v.bytes.size()));
}

template <typename... Values>
void bind_all(SQLite::Statement& statement, const Values&... values) {
    int i = 0;
    (bind_value(statement, ++i, values), ...);
}

// Reads the current row's columns in order.
class Row {
  public:
    // first: the index of the first column to read.
    explicit Row(SQLite::Statement& statement, int first = 0)
        : statement_(statement), next_(first) {}

    std::int64_t int64() { return statement_.getColumn(next_++).getInt64(); }
    std::uint64_t uint64() { return static_cast<std::uint64_t>(int64()); }
    bool boolean() { return int64() != 0; }
    std::string text() { return statement_.getColumn(next_++).getString(); }
    std::optional<int> optional_int() {
        const SQLite::Column column = statement_.getColumn(next_++);
        if (column.isNull()) return std::nullopt;
        return column.getInt();
    }
    std::string blob() {
        const SQLite::Column column = statement_.getColumn(next_++);
        const void* bytes = column.getBlob();  // before getBytes(), as SQLite asks
        const int size = column.getBytes();
        if (size == 0) return {};
        return std::string(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
    }

  private:
    SQLite::Statement& statement_;
    int next_;
};

// JSON text for argv, env, labels and facts. Invalid UTF-8 is replaced rather than failing the
// write: everything reaching the store came through UTF-8 channels already.
template <typename T>
std::string to_json(const T& value) {
    return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

template <typename T>
T from_json(const std::string& text) {
    return nlohmann::json::parse(text).get<T>();
}

template <typename State>
State known_state(std::optional<State> state, std::string_view what, std::int64_t id,
                  const std::string& text) {
    if (!state)
        throw std::runtime_error(fmt::format("{} #{} has unknown state '{}'", what, id, text));
    return *state;
}

// Column lists: the order of bind_all() in the writers and of Row in the readers.
constexpr std::array<std::string_view, 22> kJobColumns{"id",
                                                       "requester",
                                                       "source",
                                                       "target",
                                                       "argv",
                                                       "env",
                                                       "cwd",
                                                       "run_as_user",
                                                       "run_as_group",
                                                       "script_sha256",
                                                       "timeout_ms",
                                                       "output_cap_bytes",
                                                       "state",
                                                       "cancel_requested",
                                                       "created_at_ms",
                                                       "finished_at_ms",
                                                       "command",
                                                       "batch",
                                                       "batch_window",
                                                       "batch_wait_ms",
                                                       "fail_fast",
                                                       "schedule_id"};
constexpr std::array<std::string_view, 15> kRunColumns{
    "id",           "job_id",        "agent",       "state",        "exit_code",
    "signal",       "started_at_ms", "ended_at_ms", "stdout_bytes", "stderr_bytes",
    "stored_bytes", "truncated",     "last_seq",    "error",        "attempt"};
constexpr std::array<std::string_view, 13> kApprovalColumns{
    "job_id",        "requester",      "source",       "target", "argv",
    "hosts",         "approver_group", "count",        "state",  "reason",
    "created_at_ms", "expires_at_ms",  "decided_at_ms"};
constexpr std::array<std::string_view, 8> kAgentColumns{
    "name", "public_key", "hostname", "version", "labels", "facts", "capacity", "last_seen_ms"};
constexpr std::array<std::string_view, 8> kAuditColumns{"id",      "at_ms",  "kind",      "actor",
                                                        "subject", "detail", "prev_hash", "hash"};
constexpr std::array<std::string_view, 12> kScheduleColumns{"id",
                                                            "name",
                                                            "cron",
                                                            "zone",
                                                            "owner",
                                                            "channel",
                                                            "command",
                                                            "paused",
                                                            "run_missed",
                                                            "created_at_ms",
                                                            "last_fired_at_ms",
                                                            "last_job_id"};
constexpr std::array<std::string_view, 8> kTokenColumns{
    "name",          "identity",      "created_by",   "secret_sha256",
    "created_at_ms", "expires_at_ms", "last_used_ms", "revoked_at_ms"};

template <std::size_t N>
constexpr std::array<std::string_view, N + 1> with_column(
    const std::array<std::string_view, N>& columns, std::string_view last) {
    std::array<std::string_view, N + 1> out{};
    std::copy(columns.begin(), columns.end(), out.begin());
    out[N] = last;
    return out;
}

// A job's script content is written with it but read back only by the snapshot, which
// re-sends runs: a script may be 1 MiB, and listings and details have no use for it.
constexpr std::string_view kJobScriptColumn = "script";
constexpr auto kJobWriteColumns = with_column(kJobColumns, kJobScriptColumn);

// What a saved job or run never changes (store.hpp): a job's request, a run's job and agent.
// Every index of the two tables but jobs_by_state is on these, and a job's script may be
// 1 MiB; a state change rewrites none of them.
constexpr std::array<std::string_view, 12> kJobFixedColumns{
    "requester",   "source",       "target",  "argv",          "env",         "cwd",
    "run_as_user", "run_as_group", "command", "created_at_ms", "schedule_id", "script"};
constexpr std::array<std::string_view, 2> kRunFixedColumns{"job_id", "agent"};

// "j.id, j.requester, ..." for a SELECT.
std::string select_list(std::span<const std::string_view> columns, std::string_view alias) {
    std::string out;
    for (const auto column : columns) {
        if (!out.empty()) out += ", ";
        out += fmt::format("{}.{}", alias, column);
    }
    return out;
}

// INSERT of every column that updates the row in place when the key exists. Not INSERT OR
// REPLACE: that deletes the old row first, which foreign keys pointing at it would refuse.
// `fixed` are columns a row never changes after its insert: the update leaves them out, and
// with them the work SQLite does for a column it is told changed (rewriting its index
// entries, checking its foreign key) even when the value is the same.
std::string upsert(std::string_view table, std::span<const std::string_view> columns,
                   std::span<const std::string_view> fixed = {}) {
    std::string names, values, updates;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        names += fmt::format("{}{}", i ? ", " : "", columns[i]);
        values += fmt::format("{}?{}", i ? ", " : "", i + 1);
        if (i > 0 && std::find(fixed.begin(), fixed.end(), columns[i]) == fixed.end())
            updates += fmt::format("{}{} = excluded.{}", updates.empty() ? "" : ", ", columns[i],
                                   columns[i]);
    }
    return fmt::format("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}", table,
                       names, values, columns[0], updates);
}

Job job_from(SQLite::Statement& statement) {
    Row row(statement);
    Job job;
    job.id = row.int64();
    job.requester = row.text();
    job.source = row.text();
    job.target = row.text();
    job.argv = from_json<std::vector<std::string>>(row.text());
    job.env = from_json<std::map<std::string, std::string>>(row.text());
    job.cwd = row.text();
    job.run_as_user = row.text();
    job.run_as_group = row.text();
    job.script_sha256 = row.text();
    job.timeout_ms = row.int64();
    job.output_cap_bytes = row.int64();
    const std::string state = row.text();
    job.state = known_state(parse_job_state(state), "job", job.id, state);
    job.cancel_requested = row.boolean();
    job.created_at_ms = row.int64();
    job.finished_at_ms = row.int64();
    job.command = row.text();
    job.batch = row.text();
    job.batch_window = row.int64();
    job.batch_wait_ms = row.int64();
    job.fail_fast = row.boolean();
    job.schedule_id = row.int64();  // NULL reads as 0
    return job;
}

Schedule schedule_from(SQLite::Statement& statement) {
    Row row(statement);
    Schedule schedule;
    schedule.id = row.int64();
    schedule.name = row.text();
    schedule.cron = row.text();
    schedule.zone = row.text();
    schedule.owner = row.text();
    schedule.channel = row.text();
    schedule.command = from_json<std::vector<std::string>>(row.text());
    schedule.paused = row.boolean();
    schedule.run_missed = row.boolean();
    schedule.created_at_ms = row.int64();
    schedule.last_fired_at_ms = row.int64();
    schedule.last_job_id = row.int64();
    return schedule;
}

RunRecord run_from(SQLite::Statement& statement) {
    Row row(statement);
    RunRecord run;
    run.id = row.int64();
    run.job_id = row.int64();
    run.agent = row.text();
    const std::string state = row.text();
    run.state = known_state(parse_run_state(state), "run", run.id, state);
    run.exit_code = row.optional_int();
    run.signal = row.optional_int();
    run.started_at_ms = row.int64();
    run.ended_at_ms = row.int64();
    run.stdout_bytes = row.uint64();
    run.stderr_bytes = row.uint64();
    run.stored_bytes = row.uint64();
    run.truncated = row.boolean();
    run.last_seq = row.uint64();
    run.error = row.text();
    run.attempt = static_cast<int>(row.int64());
    return run;
}

AuditRow audit_from(SQLite::Statement& statement) {
    Row row(statement);
    AuditRow audit;
    audit.id = row.int64();
    audit.at_ms = row.int64();
    audit.kind = row.text();
    audit.actor = row.text();
    audit.subject = row.text();
    audit.detail = row.text();
    audit.prev_hash = row.text();
    audit.hash = row.text();
    return audit;
}

ApiTokenRecord token_from(SQLite::Statement& statement) {
    Row row(statement);
    ApiTokenRecord token;
    token.name = row.text();
    token.identity = row.text();
    token.created_by = row.text();
    token.secret_sha256 = row.text();
    token.created_at_ms = row.int64();
    token.expires_at_ms = row.int64();
    token.last_used_ms = row.int64();
    token.revoked_at_ms = row.int64();
    return token;
}

AgentRecord agent_from(SQLite::Statement& statement) {
    Row row(statement);
    AgentRecord agent;
    agent.name = row.text();
    agent.public_key = row.text();
    agent.hostname = row.text();
    agent.version = row.text();
    agent.labels = from_json<std::map<std::string, std::string>>(row.text());
    agent.facts = from_json<std::map<std::string, std::string>>(row.text());
    agent.capacity = static_cast<std::uint32_t>(row.int64());
    agent.last_seen_ms = row.int64();
    return agent;
}

class Connection;

// A run's row to write at the end of the current group (Connection::write_run).
struct PendingRun {
    RunRecord run;            // as last saved in the group
    bool row_exists = false;  // known to be in the database already (a chunk needed it)
};

// One unit of work for the store thread, in queue order.
struct Task {
    enum class Kind {
        write,  // work changes the database and throws on failure; done is on_committed
        flush,  // no work; done runs once the current group ends, committed or not
        read,   // work runs outside any transaction, must not throw, and posts its own result
    };
    Kind kind;
    std::function<void(Connection&)> work;
    std::function<void()> done;
    std::string what;  // names a write in the log: "run #12"
};

// The database and everything that touches it. Lives on the store thread (it is built on the
// opening thread before that thread starts, and destroyed on it).
class Connection {
  public:
    Connection(SQLite::Database db, const std::string& path, Store::Post post,
               StoreMetrics* metrics)
        : db_(std::move(db)),
          post_(std::move(post)),
          metrics_(metrics),
          begin_(prepare(db_, "BEGIN IMMEDIATE")),
          commit_(prepare(db_, "COMMIT")),
          upsert_job_(prepare(db_, upsert("jobs", kJobWriteColumns, kJobFixedColumns))),
          upsert_run_(prepare(db_, upsert("runs", kRunColumns, kRunFixedColumns))),
          select_run_exists_(prepare(db_, "SELECT 1 FROM runs WHERE id = ?1")),
          upsert_agent_(prepare(db_, upsert("agents", kAgentColumns))),
          insert_output_(
              prepare(db_,
                      "INSERT INTO output (run_id, seq, stream, data, encoding, size)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, seq) DO NOTHING")),
          select_job_(prepare(db_, fmt::format("SELECT {} FROM jobs j WHERE j.id = ?1",
                                               select_list(kJobColumns, "j")))),
          select_runs_(
              prepare(db_, fmt::format("SELECT {} FROM runs r WHERE r.job_id = ?1 ORDER BY r.id",
                                       select_list(kRunColumns, "r")))),
          select_output_(prepare(db_,
                                 "SELECT o.run_id, r.agent, o.seq, o.stream, o.data,"
                                 " o.encoding, o.size"
                                 " FROM runs r JOIN output o ON o.run_id = r.id"
                                 " WHERE r.job_id = ?1 ORDER BY o.run_id, o.seq")),
          select_agents_(prepare(db_, fmt::format("SELECT {} FROM agents a ORDER BY a.name",
                                                  select_list(kAgentColumns, "a")))),
          upsert_token_(prepare(db_, upsert("tokens", kTokenColumns))),
          insert_audit_(prepare(db_,
                                "INSERT INTO audit (id, at_ms, kind, actor, subject, detail,"
                                " prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")),
          select_audit_tail_(prepare(db_, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")),
          select_audit_all_(prepare(db_, fmt::format("SELECT {} FROM audit a ORDER BY a.id",
                                                     select_list(kAuditColumns, "a")))) {
        // Checkpoints off the commit path (wal_checkpointer.hpp); without WAL there are none.
        if (db_.execAndGet("PRAGMA journal_mode").getString() == "wal")
            checkpointer_ = std::make_unique<detail::WalCheckpointer>(db_, path);
    }

    // Runs a batch taken from the queue, grouping its writes into transactions.
    void run(std::span<Task> batch) {
        for (Task& task : batch) {
            switch (task.kind) {
                case Task::Kind::write:
                    write(task);
                    if (group_writes_ >= kMaxGroupWrites ||
                        std::chrono::steady_clock::now() - group_started_ >= kMaxGroupTime) {
                        end_group();
                    }
                    break;
                case Task::Kind::flush:
                    wait_for_group(std::move(task.done), When::always);
                    break;
                case Task::Kind::read:
                    end_group();
                    task.work(*this);
                    break;
            }
        }
        end_group();
    }

    void post(std::function<void()> completion) { post_(std::move(completion)); }

    void write_job(const Job& job) {
        Use s(upsert_job_);
        bind_all(*s, job.id, job.requester, job.source, job.target, to_json(job.argv),
                 to_json(job.env), job.cwd, job.run_as_user, job.run_as_group, job.script_sha256,
                 job.timeout_ms, job.output_cap_bytes, to_string(job.state), job.cancel_requested,
                 job.created_at_ms, job.finished_at_ms, job.command, job.batch, job.batch_window,
                 job.batch_wait_ms, job.fail_fast, NullableId{job.schedule_id}, Blob{job.script});
        s->exec();
    }

    // A run's row is written once per group, as last saved in it, just before the COMMIT: its
    // state, output and result often come in one group (a short run, a large fleet), and each
    // save is the whole row. Nothing in a group reads runs back (reads end the group first).
    // What the first save fixes (job_id, agent: upsert()) stays as the first save had it.
    PendingRun& write_run(const RunRecord& run) {
        auto [at, added] = pending_runs_.try_emplace(run.id, PendingRun{run});
        PendingRun& pending = at->second;
        if (added) return pending;
        RunRecord later = run;
        later.job_id = pending.run.job_id;
        later.agent = std::move(pending.run.agent);
        pending.run = std::move(later);
        return pending;
    }

    void write_pending_runs() {
        for (const auto& [id, pending] : pending_runs_) {
            try {
                upsert_run(pending.run);
            } catch (const std::exception& e) {
                die(
                    fmt::format("could not save run #{}: {}; stopping, so that nothing "
                                "acknowledged is lost (the restart continues from the last commit)",
                                id, e.what()));
            }
        }
        pending_runs_.clear();
    }

    void upsert_run(const RunRecord& run) {
        Use s(upsert_run_);
        bind_all(*s, run.id, run.job_id, run.agent, to_string(run.state), run.exit_code, run.signal,
                 run.started_at_ms, run.ended_at_ms, run.stdout_bytes, run.stderr_bytes,
                 run.stored_bytes, run.truncated, run.last_seq, run.error,
                 static_cast<std::int64_t>(run.attempt));
        s->exec();
    }

    void write_agent(const AgentRecord& agent) {
        Use s(upsert_agent_);
        bind_all(*s, agent.name, agent.public_key, agent.hostname, agent.version,
                 to_json(agent.labels), to_json(agent.facts),
                 static_cast<std::int64_t>(agent.capacity), agent.last_seen_ms);
        s->exec();
    }

    void write_output(const StoredChunk& chunk, const RunRecord& run) {
        if (chunk.run_id != run.id) {
            throw std::runtime_error(
                fmt::format("the chunk is of run #{}, not of run #{}", chunk.run_id, run.id));
        }
        // The chunk's foreign key needs the run's row: written now if this is the run's first
        // save (a run may be saved first with its first chunk), and again at the COMMIT.
        PendingRun& pending = write_run(run);
        if (!pending.row_exists) {
            Use exists(select_run_exists_);
            exists->bind(1, run.id);
            if (!exists->executeStep()) upsert_run(pending.run);
            pending.row_exists = true;
        }
        Use s(insert_output_);
        bind_all(*s, chunk.run_id, chunk.seq, chunk.stream, Blob{chunk.bytes}, chunk.encoding,
                 chunk.size);
        s->exec();
    }

    // The id and prev_hash come from the last row as committed so far in this transaction:
    // appends are serialised on this thread, so the chain cannot fork, and a write rolled back
    // takes its row with it.
    void write_audit(const AuditEvent& event, std::int64_t at_ms) {
        AuditRow row;
        row.prev_hash = std::string(kAuditGenesisHash);
        {
            Use tail(select_audit_tail_);
            if (tail->executeStep()) {
                Row last(*tail);
                row.id = last.int64();
                row.prev_hash = last.text();
            }
        }
        row.id += 1;
        row.at_ms = at_ms;
        row.kind = event.kind;
        row.actor = event.actor;
        row.subject = event.subject;
        row.detail = canonical_audit_detail(event.detail);
        row.hash = audit_hash(row);
        Use s(insert_audit_);
        bind_all(*s, row.id, row.at_ms, row.kind, row.actor, row.subject, row.detail, row.prev_hash,
                 row.hash);
        s->exec();
    }

    void write_schedule(const Schedule& sc) {
        SQLite::Statement s = prepare(db_, upsert("schedules", kScheduleColumns));
        bind_all(s, sc.id, sc.name, sc.cron, sc.zone, sc.owner, sc.channel, to_json(sc.command),
                 sc.paused, sc.run_missed, sc.created_at_ms, sc.last_fired_at_ms, sc.last_job_id);
        s.exec();
    }

    void delete_schedule(std::int64_t id) {
        SQLite::Statement s = prepare(db_, "DELETE FROM schedules WHERE id = ?1");
        bind_all(s, id);
        s.exec();
    }

    void write_token(const ApiTokenRecord& token) {
        Use s(upsert_token_);
        bind_all(*s, token.name, token.identity, token.created_by, token.secret_sha256,
                 token.created_at_ms, token.expires_at_ms, token.last_used_ms, token.revoked_at_ms);
        s->exec();
    }

    std::vector<AuditRow> read_audit(const AuditQuery& query) {
        Use s(query.oldest_first ? list_audit_statement(true) : list_audit_statement(false));
        s->bind(":before",
                query.before_id > 0 ? query.before_id : std::numeric_limits<std::int64_t>::max());
        s->bind(":after", query.after_id);
        s->bind(":since", query.since_ms);
        s->bind(":kind", query.kind);
        s->bind(":limit", std::clamp(query.limit, 0, kMaxListLimit));
        std::vector<AuditRow> rows;
        while (s->executeStep()) rows.push_back(audit_from(*s));
        return rows;
    }

    AuditVerification verify_audit() {
        Use s(select_audit_all_);
        AuditChainCheck check;
        while (s->executeStep()) {
            if (!check.add(audit_from(*s))) break;
        }
        return check.result();
    }

    StoreSnapshot read_snapshot() {
        StoreSnapshot snapshot;
        snapshot.max_job_id = db_.execAndGet("SELECT COALESCE(MAX(id), 0) FROM jobs").getInt64();
        snapshot.max_run_id = db_.execAndGet("SELECT COALESCE(MAX(id), 0) FROM runs").getInt64();

        // Which states are active is the job module's call (is_final), so ask which states
        // are present (one pass over jobs_by_state, once at start) rather than naming them.
        SQLite::Statement states = prepare(db_, "SELECT DISTINCT state FROM jobs");
        SQLite::Statement jobs_in_state =
            prepare(db_, fmt::format("SELECT {}, j.{} FROM jobs j WHERE j.state = ?1",
                                     select_list(kJobColumns, "j"), kJobScriptColumn));
        while (states.executeStep()) {
            const std::string text = states.getColumn(0).getString();
            const auto state = parse_job_state(text);
            if (!state) throw std::runtime_error(fmt::format("a job has unknown state '{}'", text));
            if (is_final(*state)) continue;
            jobs_in_state.reset();
            bind_all(jobs_in_state, text);
            while (jobs_in_state.executeStep()) {
                Job job = job_from(jobs_in_state);
                job.script = Row(jobs_in_state, static_cast<int>(kJobColumns.size())).blob();
                snapshot.active_jobs.push_back(std::move(job));
            }
        }
        std::sort(snapshot.active_jobs.begin(), snapshot.active_jobs.end(),
                  [](const Job& a, const Job& b) { return a.id < b.id; });

        for (const Job& job : snapshot.active_jobs) {
            auto runs = read_runs(job.id);
            snapshot.active_runs.insert(snapshot.active_runs.end(), runs.begin(), runs.end());
        }
        std::sort(snapshot.active_runs.begin(), snapshot.active_runs.end(),
                  [](const RunRecord& a, const RunRecord& b) { return a.id < b.id; });

        snapshot.agents = read_agents();
        snapshot.pending_approvals = read_approvals(
            {.states = {ApprovalState::pending}, .limit = std::numeric_limits<int>::max()});
        std::reverse(snapshot.pending_approvals.begin(), snapshot.pending_approvals.end());
        SQLite::Statement tokens =
            prepare(db_, fmt::format("SELECT {} FROM tokens t ORDER BY t.name",
                                     select_list(kTokenColumns, "t")));
        while (tokens.executeStep()) snapshot.tokens.push_back(token_from(tokens));
        SQLite::Statement schedules =
            prepare(db_, fmt::format("SELECT {} FROM schedules s ORDER BY s.id",
                                     select_list(kScheduleColumns, "s")));
        while (schedules.executeStep()) snapshot.schedules.push_back(schedule_from(schedules));
        // Removed schedules' ids too: their jobs still name them.
        snapshot.max_schedule_id = db_.execAndGet(
                                          "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence"
                                          " WHERE name = 'schedules'")
                                       .getInt64();
        return snapshot;
    }

    std::vector<Job> read_jobs(JobQuery query) {
        // Each state once (job_list_sql needs it), in one order: one statement for any order.
        std::sort(query.states.begin(), query.states.end());
        query.states.erase(std::unique(query.states.begin(), query.states.end()),
                           query.states.end());
        const std::int64_t before =
            query.before_id > 0 ? query.before_id : std::numeric_limits<std::int64_t>::max();
        bool short_time_window = false;
        if (query.since_ms > 0 || query.until_ms > 0) {
            Use count(cached_statement(detail::time_window_count_sql(query)));
            count->bind(":before", before);
            if (query.since_ms > 0) count->bind(":since", query.since_ms);
            if (query.until_ms > 0) count->bind(":until", query.until_ms);
            short_time_window =
                count->executeStep() && count->getColumn(0).getInt() < detail::kShortTimeWindow;
        }
        Use s(cached_statement(
            detail::job_list_sql(query, select_list(kJobColumns, "j"), short_time_window)));
        s->bind(":before", before);
        for (std::size_t i = 0; i < query.states.size(); ++i)
            s->bind(":state" + std::to_string(i), std::string(to_string(query.states[i])));
        if (!query.agent.empty()) s->bind(":agent", query.agent);
        if (!query.requester.empty()) s->bind(":requester", query.requester);
        if (!query.command.empty()) s->bind(":command", query.command);
        if (query.since_ms > 0) s->bind(":since", query.since_ms);
        if (query.until_ms > 0) s->bind(":until", query.until_ms);
        s->bind(":limit", std::clamp(query.limit, 0, kMaxListLimit));
        std::vector<Job> jobs;
        while (s->executeStep()) jobs.push_back(job_from(*s));
        return jobs;
    }

    Result<JobDetail> read_job(std::int64_t job_id) {
        std::optional<Job> job = find_job(job_id);
        if (!job) return fail(fmt::format("no job #{}", job_id));
        return JobDetail{std::move(*job), read_runs(job_id)};
    }

    Result<std::vector<OutputChunk>> read_output(std::int64_t job_id) {
        if (!find_job(job_id)) return fail(fmt::format("no job #{}", job_id));
        Use s(select_output_);
        bind_all(*s, job_id);
        std::vector<OutputChunk> chunks;
        while (s->executeStep()) {
            Row row(*s);
            OutputChunk chunk;
            chunk.run_id = row.int64();
            chunk.agent = row.text();
            chunk.seq = row.uint64();
            chunk.stream = row.text();
            chunk.data = stored_bytes(row, chunk.run_id, chunk.seq);
            chunks.push_back(std::move(chunk));
        }
        return chunks;
    }

    // Two steps, so that a range costs the range: the sizes of the host's chunks, then the data
    // of the chunks that overlap the range alone. Data is stored as a blob, so length() counts
    // bytes, and SQLite takes it from the record header without reading the overflow pages
    // that hold a chunk's bytes (a 1 GiB run: 10 MiB of pages read, not 1 GiB). A resumed
    // read counts from its cursor and stops at the range's end, so reading an output piece by
    // piece costs the output once, not once per piece.
    Result<OutputSlice> read_output_range(std::int64_t job_id, const OutputRange& range) {
        if (!find_job(job_id)) return fail(fmt::format("no job #{}", job_id));
        struct Piece {
            std::int64_t run_id, seq, start, size;  // start: offset of its first byte
        };
        std::vector<Piece> overlapping;
        OutputSlice slice;
        const std::int64_t length = std::max<std::int64_t>(range.length, 0);
        const std::int64_t end = range.offset > std::numeric_limits<std::int64_t>::max() - length
                                     ? std::numeric_limits<std::int64_t>::max()
                                     : range.offset + length;
        std::vector<std::int64_t> runs;
        {
            Use s(cached_statement(
                "SELECT id FROM runs WHERE job_id = ?1 AND agent = ?2 ORDER BY id"));
            bind_all(*s, job_id, range.host);
            while (s->executeStep()) runs.push_back(Row(*s).int64());
        }
        const OutputCursor resume_at = range.resume.value_or(OutputCursor{});
        std::int64_t position = resume_at.start;
        bool past_the_range = false;
        for (const std::int64_t run_id : runs) {
            if (run_id < resume_at.run_id) continue;
            Use s(cached_statement(
                "SELECT seq, stream, iif(encoding = '', length(data), size) FROM output"
                " WHERE run_id = ?1 AND seq >= ?2 ORDER BY seq"));
            bind_all(*s, run_id, run_id == resume_at.run_id ? resume_at.seq : std::int64_t{0});
            while (s->executeStep()) {
                Row row(*s);
                const std::int64_t seq = row.int64();
                if (range.stream != "combined" && row.text() != range.stream) continue;
                Piece piece{run_id, seq, position, s->getColumn(2).getInt64()};
                // The first chunk with bytes at or past the end is where the next range resumes.
                if (!slice.next && piece.size > 0 && piece.start + piece.size > end)
                    slice.next = OutputCursor{run_id, seq, piece.start};
                if (range.resume && slice.next && piece.start >= end) {
                    past_the_range = true;  // the rest is the next range's
                    break;
                }
                position += piece.size;
                if (piece.size > 0 && piece.start < end && piece.start + piece.size > range.offset)
                    overlapping.push_back(piece);
            }
            if (past_the_range) break;
        }
        slice.total = range.resume ? -1 : position;
        Use s(cached_statement(
            "SELECT data, encoding, size FROM output WHERE run_id = ?1 AND seq = ?2"));
        for (const Piece& piece : overlapping) {
            s->reset();
            bind_all(*s, piece.run_id, piece.seq);
            // Nothing deletes output, and this thread alone writes it: a chunk gone since the
            // scan is a broken store, an error rather than a range with a hole in it.
            if (!s->executeStep())
                throw std::runtime_error(
                    fmt::format("output {} of run #{} vanished", piece.seq, piece.run_id));
            Row row(*s);
            const std::string data = stored_bytes(row, piece.run_id, piece.seq);
            const auto from = std::max(range.offset - piece.start, std::int64_t{0});
            const auto to = std::min(end - piece.start, piece.size);
            slice.bytes.append(data, static_cast<std::size_t>(from),
                               static_cast<std::size_t>(to - from));
        }
        return slice;
    }

    // A chunk's bytes from its data, encoding and size columns (the row's next three), as the
    // process wrote them. One that does not decode is a broken store: an error, not a hole.
    static std::string stored_bytes(Row& row, std::int64_t run_id, std::uint64_t seq) {
        std::string data = row.blob();
        const std::string encoding = row.text();
        const std::int64_t size = row.int64();
        if (encoding.empty()) return data;
        auto raw = proto::decode_chunk(encoding, data,
                                       static_cast<std::size_t>(std::max<std::int64_t>(size, 0)));
        if (!raw)
            throw std::runtime_error(fmt::format("output {} of run #{} is damaged: {}", seq, run_id,
                                                 raw.error().message));
        return std::move(*raw);
    }

    std::vector<AgentRecord> read_agents() {
        Use s(select_agents_);
        std::vector<AgentRecord> agents;
        while (s->executeStep()) agents.push_back(agent_from(*s));
        return agents;
    }

    void write_approval(const Approval& a) {
        SQLite::Statement s = prepare(db_, upsert("approvals", kApprovalColumns));
        bind_all(s, a.job_id, a.requester, a.source, a.target, to_json(a.argv), to_json(a.hosts),
                 a.group, static_cast<std::int64_t>(a.count), to_string(a.state), a.reason,
                 a.created_at_ms, a.expires_at_ms, a.decided_at_ms);
        s.exec();
        SQLite::Statement vote =
            prepare(db_,
                    "INSERT INTO approval_votes (job_id, approver, approve, reason, at_ms)"
                    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (job_id, approver) DO NOTHING");
        for (const ApprovalVote& v : a.votes) {
            vote.reset();
            bind_all(vote, a.job_id, v.approver, v.approve, v.reason, v.at_ms);
            vote.exec();
        }
    }

    // limit: at most this many (newest first); a negative limit is none.
    std::vector<Approval> read_approvals(const ApprovalQuery& query) {
        std::string where = " WHERE a.job_id < ?2";
        if (!query.states.empty()) {
            where += " AND a.state IN (";
            for (std::size_t i = 0; i < query.states.size(); ++i)
                where += (i == 0 ? "?" : ", ?") + std::to_string(i + 3);
            where += ")";
        }
        SQLite::Statement s =
            prepare(db_, fmt::format("SELECT {} FROM approvals a{} ORDER BY a.job_id DESC LIMIT ?1",
                                     select_list(kApprovalColumns, "a"), where));
        bind_value(s, 1, static_cast<std::int64_t>(std::max(query.limit, 0)));
        bind_value(s, 2,
                   query.before_job_id > 0 ? query.before_job_id
                                           : std::numeric_limits<std::int64_t>::max());
        for (std::size_t i = 0; i < query.states.size(); ++i)
            bind_value(s, static_cast<int>(i + 3), to_string(query.states[i]));
        std::vector<Approval> out;
        while (s.executeStep()) {
            Row row(s);
            Approval a;
            a.job_id = row.int64();
            a.requester = row.text();
            a.source = row.text();
            a.target = row.text();
            a.argv = from_json<std::vector<std::string>>(row.text());
            a.hosts = from_json<std::vector<std::string>>(row.text());
            a.group = row.text();
            a.count = static_cast<int>(row.int64());
            const std::string text = row.text();
            a.state = known_state(parse_approval_state(text), "approval", a.job_id, text);
            a.reason = row.text();
            a.created_at_ms = row.int64();
            a.expires_at_ms = row.int64();
            a.decided_at_ms = row.int64();
            out.push_back(std::move(a));
        }
        SQLite::Statement votes = prepare(db_,
                                          "SELECT approver, approve, reason, at_ms FROM "
                                          "approval_votes WHERE job_id = ?1 ORDER BY at_ms, rowid");
        for (Approval& a : out) {
            votes.reset();
            bind_all(votes, a.job_id);
            while (votes.executeStep()) {
                Row row(votes);
                ApprovalVote v;
                v.approver = row.text();
                v.approve = row.boolean();
                v.reason = row.text();
                v.at_ms = row.int64();
                a.votes.push_back(std::move(v));
            }
        }
        return out;
    }

  private:
    // When a completion waiting on the current group runs.
    enum class When { committed, always };
    struct Completion {
        std::function<void()> run;
        When when;
    };

    std::optional<Job> find_job(std::int64_t job_id) {
        Use s(select_job_);
        bind_all(*s, job_id);
        if (!s->executeStep()) return std::nullopt;
        return job_from(*s);
    }

    std::vector<RunRecord> read_runs(std::int64_t job_id) {
        Use s(select_runs_);
        bind_all(*s, job_id);
        std::vector<RunRecord> runs;
        while (s->executeStep()) runs.push_back(run_from(*s));
        return runs;
    }

    // Newest or oldest first; an empty :kind matches every kind.
    SQLite::Statement& list_audit_statement(bool oldest_first) {
        auto& statement = oldest_first ? list_audit_forward_ : list_audit_backward_;
        if (!statement) {
            statement = prepare(
                db_, fmt::format("SELECT {} FROM audit a WHERE a.id < :before AND a.id > :after"
                                 " AND a.at_ms >= :since AND (:kind = '' OR a.kind = :kind)"
                                 " ORDER BY a.id {} LIMIT :limit",
                                 select_list(kAuditColumns, "a"), oldest_first ? "ASC" : "DESC"));
        }
        return *statement;
    }

    // The job list's statements, one per filter combination (job_list_query.cpp says how each
    // walks an index), prepared on first use and kept by their SQL.
    SQLite::Statement& cached_statement(const std::string& sql) {
        auto found = list_jobs_.find(sql);
        if (found != list_jobs_.end()) return found->second;
        return list_jobs_.emplace(sql, prepare(db_, sql)).first->second;
    }

    // Applies one write inside the current group (opening it if needed).
    //
    // A write or commit the database refuses (a full disk, an I/O error, a lock held past the
    // busy timeout) stops the controller. Skipping it would break what the rest relies on:
    // an output chunk missing under a later, acknowledged one is a hole no agent can fill.
    // Stopped, it loses nothing: agents keep everything unacknowledged in their spools, and
    // the restart (systemd's Restart=on-failure) continues from the last commit.
    void write(Task& task) {
        try {
            if (!in_transaction_) {
                execute(begin_);
                in_transaction_ = true;
                group_started_ = std::chrono::steady_clock::now();
                group_writes_ = 0;
            }
            ++group_writes_;
            task.work(*this);
        } catch (const std::exception& e) {
            die(
                fmt::format("could not save {}: {}; stopping, so that nothing acknowledged is "
                            "lost (the restart continues from the last commit)",
                            task.what, e.what()));
        }
        wait_for_group(std::move(task.done), When::committed);
    }

    // Commits the current group, if any, and posts what waits on it.
    void end_group() {
        if (in_transaction_) {
            write_pending_runs();
            try {
                const auto started = std::chrono::steady_clock::now();
                execute(commit_);
                if (metrics_ != nullptr)
                    metrics_->committed(std::chrono::steady_clock::now() - started);
            } catch (const std::exception& e) {
                die(
                    fmt::format("commit of {} write(s) failed: {}; stopping, so that nothing "
                                "acknowledged is lost (the restart continues from the last "
                                "commit)",
                                group_writes_, e.what()));
            }
            in_transaction_ = false;
        }
        post_group(true);
    }

    void wait_for_group(std::function<void()> done, When when) {
        if (done) waiting_.push_back(Completion{std::move(done), when});
    }

    // Posts the group's completions as one task, in order. Those that must not run are still
    // handed over, so that they are destroyed on the caller's thread like the others.
    void post_group(bool committed) {
        if (waiting_.empty()) return;
        post_([completions = std::move(waiting_), committed] {
            for (const auto& c : completions) {
                if (c.when == When::always || (c.when == When::committed && committed)) c.run();
            }
        });
        waiting_.clear();
    }

    SQLite::Database db_;
    std::unique_ptr<detail::WalCheckpointer> checkpointer_;  // after db_: it hooks db_
    Store::Post post_;
    StoreMetrics* metrics_;  // may be null
    SQLite::Statement begin_, commit_;
    SQLite::Statement upsert_job_, upsert_run_, select_run_exists_, upsert_agent_, insert_output_;
    SQLite::Statement select_job_, select_runs_, select_output_, select_agents_;
    SQLite::Statement upsert_token_, insert_audit_, select_audit_tail_, select_audit_all_;
    std::optional<SQLite::Statement> list_audit_forward_, list_audit_backward_;
    std::map<std::string, SQLite::Statement> list_jobs_;  // by their SQL

    // The current group: open transaction, when it began, its writes, who waits on it.
    bool in_transaction_ = false;
    std::chrono::steady_clock::time_point group_started_;
    std::size_t group_writes_ = 0;
    std::vector<Completion> waiting_;
    // write_run(): each run as last saved in the group, by id (written in id order).
    std::map<std::int64_t, PendingRun> pending_runs_;
};

// A read's result, or the database's error as text.
template <typename T, typename Query>
Result<T> guarded(Query&& query) {
    try {
        return std::forward<Query>(query)();
    } catch (const std::exception& e) {
        return fail(fmt::format("store: read failed: {}", e.what()));
    }
}

class SqliteStore final : public Store {
  public:
    SqliteStore(std::unique_ptr<Connection> connection, Post post, StoreMetrics* metrics)
        : post_(std::move(post)),
          metrics_(metrics),
          thread_([this, connection = std::move(connection)]() mutable {
              // Named, so that top -H, perf and the benchmarks tell the store from the rest.
              pthread_setname_np(pthread_self(), "store");
              run(*connection);
              connection.reset();  // closes the database on this thread
          }) {}

    ~SqliteStore() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_->notify_one();
        thread_.join();
    }

    Result<StoreSnapshot> load() override {
        std::promise<Result<StoreSnapshot>> promise;
        auto result = promise.get_future();
        enqueue(Task{Task::Kind::read, [&promise](Connection& c) {
                         promise.set_value(
                             guarded<StoreSnapshot>([&] { return c.read_snapshot(); }));
                     }});
        return result.get();
    }

    void save_job(const Job& job, std::function<void()> on_committed) override {
        enqueue_write([job](Connection& c) { c.write_job(job); }, std::move(on_committed),
                      fmt::format("job #{}", job.id));
    }

    void save_run(const RunRecord& run, std::function<void()> on_committed) override {
        enqueue_write([run](Connection& c) { c.write_run(run); }, std::move(on_committed),
                      fmt::format("run #{}", run.id));
    }

    void save_agent(const AgentRecord& agent, std::function<void()> on_committed) override {
        enqueue_write([agent](Connection& c) { c.write_agent(agent); }, std::move(on_committed),
                      fmt::format("agent {}", agent.name));
    }

    void append_output(const OutputChunk& chunk, const RunRecord& run,
                       std::function<void()> on_committed) override {
        enqueue_write(
            [row = StoredChunk::of(chunk), run](Connection& c) { c.write_output(row, run); },
            std::move(on_committed), fmt::format("output {} of run #{}", chunk.seq, chunk.run_id));
    }

    void save_approval(const Approval& approval, std::function<void()> on_committed) override {
        enqueue_write([approval](Connection& c) { c.write_approval(approval); },
                      std::move(on_committed), fmt::format("approval #{}", approval.job_id));
    }

    void append_audit(const AuditEvent& event, std::int64_t at_ms,
                      std::function<void()> on_committed) override {
        enqueue_write([event, at_ms](Connection& c) { c.write_audit(event, at_ms); },
                      std::move(on_committed), fmt::format("audit event {}", event.kind));
    }

    void save_token(const ApiTokenRecord& token, std::function<void()> on_committed) override {
        enqueue_write([token](Connection& c) { c.write_token(token); }, std::move(on_committed),
                      fmt::format("token {}", token.name));
    }

    void save_schedule(const Schedule& schedule, std::function<void()> on_committed) override {
        enqueue_write([schedule](Connection& c) { c.write_schedule(schedule); },
                      std::move(on_committed), fmt::format("schedule {}", schedule.name));
    }

    void delete_schedule(std::int64_t id, std::function<void()> on_committed) override {
        enqueue_write([id](Connection& c) { c.delete_schedule(id); }, std::move(on_committed),
                      fmt::format("removal of schedule #{}", id));
    }

    void flush(std::function<void()> on_committed) override {
        enqueue(Task{Task::Kind::flush, {}, std::move(on_committed)});
    }

    void list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) override {
        enqueue_read<std::vector<Job>>(std::move(done),
                                       [query](Connection& c) { return c.read_jobs(query); });
    }

    void job(std::int64_t job_id, Callback<JobDetail> done) override {
        enqueue_read<JobDetail>(std::move(done),
                                [job_id](Connection& c) { return c.read_job(job_id); });
    }

    void output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) override {
        enqueue_read<std::vector<OutputChunk>>(
            std::move(done), [job_id](Connection& c) { return c.read_output(job_id); });
    }

    void output_range(std::int64_t job_id, const OutputRange& range,
                      Callback<OutputSlice> done) override {
        enqueue_read<OutputSlice>(std::move(done), [job_id, range](Connection& c) {
            return c.read_output_range(job_id, range);
        });
    }

    void agents(Callback<std::vector<AgentRecord>> done) override {
        enqueue_read<std::vector<AgentRecord>>(std::move(done),
                                               [](Connection& c) { return c.read_agents(); });
    }

    void list_approvals(const ApprovalQuery& query, Callback<std::vector<Approval>> done) override {
        ApprovalQuery q = query;
        q.limit = std::clamp(q.limit, 0, kMaxListLimit);
        enqueue_read<std::vector<Approval>>(std::move(done),
                                            [q](Connection& c) { return c.read_approvals(q); });
    }

    void audit(const AuditQuery& query, Callback<std::vector<AuditRow>> done) override {
        enqueue_read<std::vector<AuditRow>>(std::move(done),
                                            [query](Connection& c) { return c.read_audit(query); });
    }

    void verify_audit(Callback<AuditVerification> done) override {
        enqueue_read<AuditVerification>(std::move(done),
                                        [](Connection& c) { return c.verify_audit(); });
    }

  private:
    // Reads and flushes wake the store thread at once (a caller may block on the answer).
    void enqueue(Task task) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::move(task));
            if (metrics_ != nullptr) metrics_->queue_depth(queue_.size());
        }
        wake_->notify_one();
    }

    // A write wakes it once the caller's current task is over (posted like a completion), so
    // that what one task writes (a submit: its job, runs, audit row and dispatch) is one
    // group. Woken at its first write, the thread committed that one alone and the rest in a
    // second commit: 4.2 commits a /bin/true job instead of 3 (docs/performance.md). The
    // wake-up holds the condition variable only: it may run after the store is gone.
    void enqueue_write(std::function<void(Connection&)> work, std::function<void()> on_committed,
                       std::string what) {
        bool post_wake = false;
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(
                Task{Task::Kind::write, std::move(work), std::move(on_committed), std::move(what)});
            if (metrics_ != nullptr) metrics_->queue_depth(queue_.size());
            post_wake = !std::exchange(wake_posted_, true);
        }
        if (post_wake) post_([wake = wake_] { wake->notify_one(); });
    }

    template <typename T, typename Query>
    void enqueue_read(Callback<T> done, Query query) {
        enqueue(Task{Task::Kind::read, [done = std::move(done), query](Connection& c) mutable {
                         Result<T> result = guarded<T>([&] { return query(c); });
                         c.post([done = std::move(done), result = std::move(result)]() mutable {
                             done(std::move(result));
                         });
                     }});
    }

    // The store thread: takes up to a group's worth of tasks at a time until stopped and empty.
    void run(Connection& connection) {
        std::vector<Task> batch;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                wake_->wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping, and everything queued is done
                wake_posted_ = false;  // writes queued from now on need a wake-up of their own
                const std::size_t n = std::min(queue_.size(), kMaxGroupWrites);
                std::move(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n),
                          std::back_inserter(batch));
                queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
                if (metrics_ != nullptr) metrics_->queue_depth(queue_.size());
            }
            connection.run(batch);
            batch.clear();
        }
    }

    const Post post_;
    StoreMetrics* const metrics_;  // may be null; called with mutex_ held
    const std::shared_ptr<std::condition_variable> wake_ =
        std::make_shared<std::condition_variable>();

    // Guarded by mutex_.
    std::mutex mutex_;
    std::deque<Task> queue_;
    bool stopping_ = false;
    bool wake_posted_ = false;  // a wake-up for queued writes is posted and not yet taken

    std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, Post post,
                                           StoreMetrics* metrics) {
    try {
        SQLite::Database db = detail::open_database(path);
        if (auto migrated = detail::migrate(db); !migrated) {
            return fail(
                fmt::format("cannot open the database {}: {}", path, migrated.error().message));
        }
        auto connection = std::make_unique<Connection>(std::move(db), path, post, metrics);
        return std::unique_ptr<Store>(
            std::make_unique<SqliteStore>(std::move(connection), std::move(post), metrics));
    } catch (const std::exception& e) {
        return fail(fmt::format("cannot open the database {}: {}", path, e.what()));
    }
}

}  // namespace hostline::controller
