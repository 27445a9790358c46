// WalCheckpointer: copies the store's write-ahead log back into the database file on a thread
// of its own, so that no commit waits for a checkpoint.
//
// SQLite's automatic checkpoint runs inside whichever commit takes the log past
// wal_autocheckpoint pages (1,000): that commit then also copies those pages and syncs the log
// and the database file. Here that was a ~3 ms wait every ~35 jobs (a job writes ~30 pages),
// on the path of whatever waited on that commit: the 201 of a submit, a run's dispatch, an
// agent's acknowledgement (docs/performance.md, "Dispatch latency"). Attached, it takes the
// writer's checkpoints over: after each commit it is told the log's size, and past the same
// 1,000 pages its thread runs a PASSIVE checkpoint on a connection of its own, which neither
// waits for nor blocks the writer. A writer that never pauses can keep it from ever catching
// up (the log restarts only once all of it is copied): past kForcePages the writer checkpoints
// in its commit again, as before, so the log stays bounded. What is committed is as durable as
// before: a checkpoint only moves committed pages, and SQLite recovers from a stop at any point of
// one.
//
// Inside hostline_store only (it shows SQLiteCpp). Threads: made beside the writer connection
// before its first commit and destroyed before it closes; the writer's commits call it; its
// own connection is used on its own thread only.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace hostline::controller::detail {

class WalCheckpointer {
  public:
    // Log pages past which a checkpoint is due: SQLite's default wal_autocheckpoint.
    static constexpr int kDuePages = 1000;
    // Log pages past which the writer checkpoints itself (16 MiB of 4 KiB pages).
    static constexpr int kForcePages = 4 * kDuePages;

    // Opens a second connection to path (which writer has open in WAL mode), starts the thread
    // and takes writer's checkpoints over. Throws SQLite::Exception if it cannot open path.
    WalCheckpointer(SQLite::Database& writer, const std::string& path);
    // Gives the writer its automatic checkpoints back, lets a checkpoint under way finish and
    // stops the thread.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  private:
    // sqlite3_wal_hook: called by the writer after each commit with the log's size in pages.
    static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
    void run();

    // Constant after construction.
    SQLite::Database& writer_;
    SQLite::Database own_;  // used by the thread only

    // Guarded by mutex_.
    std::mutex mutex_;
    std::condition_variable wake_;
    bool due_ = false;
    bool stopping_ = false;

    std::mutex copying_;  // held by whichever checkpoint runs: the thread's or the writer's

    std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace hostline::controller::detail
