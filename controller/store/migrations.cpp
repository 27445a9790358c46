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

// The catalog command a job runs (empty: ad-hoc), which agents may refuse runs by.
// Versions 4 and 5 belong to other parts of the policy work; they may land in any order.
constexpr std::string_view kJobCommand = R"sql(
ALTER TABLE jobs ADD COLUMN command TEXT NOT NULL DEFAULT '';  -- empty: an ad-hoc run
)sql";

constexpr std::array kMigrations{
    Migration{1, kInitialSchema},
    Migration{2, kJobsByRequester},
    Migration{3, kJobCapAndScript},
    Migration{6, kJobCommand},
};

}  // namespace

std::span<const Migration> migrations() {
    return kMigrations;
}

}  // namespace hostline::controller::detail
