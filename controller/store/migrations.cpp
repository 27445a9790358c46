#include "controller/store/migrations.hpp"

#include <array>

namespace hostline::controller::detail {
namespace {

// States are stored as their to_string() text; maps and argv as JSON text; byte counts and
// seqs as INTEGER (they fit in 63 bits); booleans as 0/1.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE agents (
    name          TEXT PRIMARY KEY NOT NULL,
    public_key    TEXT NOT NULL,
    hostname      TEXT NOT NULL,
    version       TEXT NOT NULL,
    labels        TEXT NOT NULL,  -- JSON object
    facts         TEXT NOT NULL,  -- JSON object
    capacity      INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL
);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    requester         TEXT NOT NULL,
    source            TEXT NOT NULL,
    target            TEXT NOT NULL,
    argv              TEXT NOT NULL,  -- JSON array
    env               TEXT NOT NULL,  -- JSON object
    cwd               TEXT NOT NULL,
    run_as_user       TEXT NOT NULL DEFAULT '',  -- empty: the agent's own user
    run_as_group      TEXT NOT NULL DEFAULT '',
    script_sha256     TEXT NOT NULL DEFAULT '',  -- a catalog script's hash; empty: none
    timeout_ms        INTEGER NOT NULL,
    state             TEXT NOT NULL,
    cancel_requested  INTEGER NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    finished_at_ms    INTEGER NOT NULL
);
-- Listing newest first uses the primary key; filtered by state, this index.
CREATE INDEX jobs_by_state ON jobs (state, id);

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    job_id         INTEGER NOT NULL REFERENCES jobs (id),
    agent          TEXT NOT NULL,
    state          TEXT NOT NULL,
    exit_code      INTEGER,
    signal         INTEGER,
    started_at_ms  INTEGER NOT NULL,
    ended_at_ms    INTEGER NOT NULL,
    stdout_bytes   INTEGER NOT NULL,
    stderr_bytes   INTEGER NOT NULL,
    stored_bytes   INTEGER NOT NULL,
    truncated      INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL,
    error          TEXT NOT NULL
);
CREATE INDEX runs_by_job ON runs (job_id);
-- Listing the jobs that ran on one agent, newest first, walks this index backwards.
CREATE INDEX runs_by_agent ON runs (agent, job_id);

CREATE TABLE output (
    run_id  INTEGER NOT NULL REFERENCES runs (id),
    seq     INTEGER NOT NULL,
    stream  TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
)sql";

// `!history` and `?requester=` list one person's jobs, newest first.
constexpr std::string_view kJobsByRequester = R"sql(
CREATE INDEX jobs_by_requester ON jobs (requester, id);
)sql";

// A catalog command's own output cap, and the script's content, which a run re-sent after a
// restart must carry (the agent refuses a hash without it).
constexpr std::string_view kJobCapAndScript = R"sql(
ALTER TABLE jobs ADD COLUMN output_cap_bytes INTEGER NOT NULL DEFAULT 0;  -- 0: the default
ALTER TABLE jobs ADD COLUMN script BLOB NOT NULL DEFAULT x'';             -- empty: none
)sql";

// The audit chain (docs/audit.md). Rows are only ever inserted; detail is canonical JSON.
constexpr std::string_view kAudit = R"sql(
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,  -- JSON object of strings, keys sorted
    prev_hash  TEXT NOT NULL,  -- hex SHA-256 of the previous row; 64 zeros for the first
    hash       TEXT NOT NULL   -- hex SHA-256 over this row's fields and prev_hash
);
CREATE INDEX audit_by_kind ON audit (kind, id);
)sql";

// API tokens: only the secret's SHA-256 is kept. Revoked tokens stay, for `tokens list`.
constexpr std::string_view kTokens = R"sql(
CREATE TABLE tokens (
    name           TEXT PRIMARY KEY NOT NULL,
    identity       TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    secret_sha256  TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,  -- 0: never
    last_used_ms   INTEGER NOT NULL,  -- 0: never
    revoked_at_ms  INTEGER NOT NULL   -- 0: not revoked
);
)sql";

// The catalog command a job runs (empty: ad-hoc), which agents may refuse runs by.
constexpr std::string_view kJobCommand = R"sql(
ALTER TABLE jobs ADD COLUMN command TEXT NOT NULL DEFAULT '';  -- empty: an ad-hoc run
)sql";

// Approvals (8; 4-7 are other features'). One row per held job, keyed by its id; the votes
// beside it, one per approver. hosts is the exact host set the approvers saw (JSON array).
constexpr std::string_view kApprovals = R"sql(
CREATE TABLE approvals (
    job_id          INTEGER PRIMARY KEY REFERENCES jobs (id),
    requester       TEXT NOT NULL,
    source          TEXT NOT NULL,
    target          TEXT NOT NULL,
    argv            TEXT NOT NULL,  -- JSON array
    hosts           TEXT NOT NULL,  -- JSON array
    approver_group  TEXT NOT NULL,
    count           INTEGER NOT NULL,
    state           TEXT NOT NULL,  -- pending | granted | denied | expired
    reason          TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    expires_at_ms   INTEGER NOT NULL,
    decided_at_ms   INTEGER NOT NULL
);
CREATE INDEX approvals_by_state ON approvals (state, job_id);

CREATE TABLE approval_votes (
    job_id    INTEGER NOT NULL REFERENCES approvals (job_id),
    approver  TEXT NOT NULL,
    approve   INTEGER NOT NULL,  -- 1: approved, 0: denied
    reason    TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (job_id, approver)
);
)sql";

// The job list's command filter: a catalog command by name, an ad-hoc job by argv[0] (the
// same expression as in list_jobs_statement, or SQLite does not use the index).
constexpr std::string_view kJobsByCommand = R"sql(
CREATE INDEX jobs_by_command ON jobs (command, id);
CREATE INDEX jobs_by_argv0 ON jobs (json_extract(argv, '$[0]'), id);
)sql";

// The command filter as one expression (a catalog command's name, else an ad-hoc job's
// argv[0]) with one index in id order. Matching it as `command = ? OR (command = '' AND
// argv[0] = ?)` over 9's two indexes made SQLite collect every match and sort it: 13 ms a page
// at 100,000 jobs against 0.3 ms at 100 (docs/performance.md). Written exactly as in
// job_list_query.cpp, or SQLite does not use it.
constexpr std::string_view kJobsByCommandOrArgv0 = R"sql(
DROP INDEX IF EXISTS jobs_by_command;
DROP INDEX IF EXISTS jobs_by_argv0;
CREATE INDEX jobs_by_command_or_argv0
    ON jobs (coalesce(nullif(command, ''), json_extract(argv, '$[0]')), id);
)sql";

// The job list's time filters (since, until): a window holding few jobs is walked by this index
// rather than by id through every job outside it (job_list_query.cpp).
constexpr std::string_view kJobsByCreated = R"sql(
CREATE INDEX jobs_by_created ON jobs (created_at_ms, id);
)sql";

// Schedules (12): one row per schedule (controller/jobs/schedule_desk.hpp); a job a firing
// started names its schedule. No foreign key: a removed schedule's jobs keep their link as
// history, and AUTOINCREMENT keeps a removed schedule's id from being given to a new one.
constexpr std::string_view kSchedules = R"sql(
CREATE TABLE schedules (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    cron              TEXT NOT NULL,
    zone              TEXT NOT NULL,
    owner             TEXT NOT NULL,
    channel           TEXT NOT NULL,
    command           TEXT NOT NULL,  -- JSON array of words
    paused            INTEGER NOT NULL,
    run_missed        INTEGER NOT NULL,
    created_at_ms     INTEGER NOT NULL,
    last_fired_at_ms  INTEGER NOT NULL,  -- 0: never
    last_job_id       INTEGER NOT NULL   -- 0: none
);
ALTER TABLE jobs ADD COLUMN schedule_id INTEGER;  -- NULL: not started by a schedule
CREATE INDEX jobs_by_schedule ON jobs (schedule_id, id) WHERE schedule_id IS NOT NULL;
)sql";

// Retries (13; 12 is the schedules'): a job may run more than once on the same agent, each
// attempt a run of its own. Runs from before it were first attempts.
constexpr std::string_view kRunAttempt = R"sql(
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
)sql";

// A rollout's window, pause and fail-fast (docs/scheduling.md, "Batches"), kept with the job
// so a restarted controller goes on releasing its runs as the last one did.
constexpr std::string_view kJobRollout = R"sql(
ALTER TABLE jobs ADD COLUMN batch TEXT NOT NULL DEFAULT '';          -- "2", "25%"; empty: none
ALTER TABLE jobs ADD COLUMN batch_window INTEGER NOT NULL DEFAULT 0; -- 0: no window
ALTER TABLE jobs ADD COLUMN batch_wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN fail_fast INTEGER NOT NULL DEFAULT 0;
)sql";

// Output as a rowid table (15): chunks are appended under a growing rowid and found through
// the (run_id, seq) index. WITHOUT ROWID kept each 64 KiB chunk in the primary key's b-tree,
// which SQLite advises against for rows this large; storing 1 GiB of output took the store
// thread 2.8-3.2 s, as a rowid table 1.6-1.8 s (docs/performance.md, "Output"). Copies the
// table once.
constexpr std::string_view kOutputRowid = R"sql(
CREATE TABLE output_rowid (
    run_id  INTEGER NOT NULL REFERENCES runs (id),
    seq     INTEGER NOT NULL,
    stream  TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (run_id, seq)
);
INSERT INTO output_rowid (run_id, seq, stream, data)
    SELECT run_id, seq, stream, data FROM output ORDER BY run_id, seq;
DROP TABLE output;
ALTER TABLE output_rowid RENAME TO output;
)sql";

// Output chunks kept LZ4-compressed as the agent sent them (common/proto/output_encoding.hpp):
// `encoding` '' is the bytes as written, 'lz4' the compressed form of `size` bytes. Rows from
// before keep '' and a size of 0 (their data's length is their size).
constexpr std::string_view kOutputEncoding = R"sql(
ALTER TABLE output ADD COLUMN encoding TEXT NOT NULL DEFAULT '';
ALTER TABLE output ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
)sql";

// 5 belongs to another part of the policy work; numbers may land in any order.
// One per line, so that migrations merged from separate work do not collide.
// clang-format off
constexpr std::array kMigrations{
    Migration{1, kInitialSchema},
    Migration{2, kJobsByRequester},
    Migration{3, kJobCapAndScript},
    Migration{4, kAudit},
    Migration{6, kJobCommand},
    Migration{7, kTokens},
    Migration{8, kApprovals},
    Migration{9, kJobsByCommand},
    Migration{10, kJobsByCommandOrArgv0},
    Migration{11, kJobsByCreated},
    Migration{12, kSchedules},
    Migration{13, kRunAttempt},
    Migration{14, kJobRollout},
    Migration{15, kOutputRowid},
    Migration{16, kOutputEncoding},
};
// clang-format on

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

}  // namespace hostline::controller::detail
