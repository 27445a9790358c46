#include "controller/store/wal_checkpointer.hpp"

#include <pthread.h>
#include <sqlite3.h>

#include "common/log/module_logger.hpp"
#include "controller/store/sqlite_database.hpp"

static constinit hostline::log::ModuleLogger logger{"store"};

namespace hostline::controller::detail {

WalCheckpointer::WalCheckpointer(SQLite::Database& writer, const std::string& path)
    : writer_(writer),
      own_(path, SQLite::OPEN_READWRITE, kBusyTimeoutMs),
      thread_([this] { run(); }) {
    // A connection finds the database in WAL mode on its first read: until then a checkpoint
    // on it does nothing (and says -1 pages). Before the hook, which may wake the thread.
    own_.execAndGet("PRAGMA journal_mode");
    // Replaces the writer's automatic checkpoint, which is itself a wal hook.
    sqlite3_wal_hook(writer_.getHandle(), &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_autocheckpoint(writer_.getHandle(), kDuePages);
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
    if (pages < kDuePages) return SQLITE_OK;
    auto* checkpointer = static_cast<WalCheckpointer*>(self);
    if (pages >= kForcePages) {
        // The thread's checkpoints have not caught up with this writer: one here, between two
        // of its transactions, copies all of the log, so the next transaction restarts it. After
        // the thread's, if one is under way: a second checkpointer would be refused (BUSY).
        std::lock_guard copying(checkpointer->copying_);
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return SQLITE_OK;
    }
    {
        std::lock_guard lock(checkpointer->mutex_);
        checkpointer->due_ = true;
    }
    checkpointer->wake_.notify_one();
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    pthread_setname_np(pthread_self(), "store-wal");  // as top -H and perf show it
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || due_; });
            if (stopping_) return;
            due_ = false;
        }
        int log_pages = 0;
        int copied = 0;
        // PASSIVE: copies what no reader still needs, without waiting; whatever it leaves is
        // copied by the next one. BUSY: another connection is checkpointing (a backup, say).
        int rc = SQLITE_OK;
        {
            std::lock_guard copying(copying_);
            rc = sqlite3_wal_checkpoint_v2(own_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           &log_pages, &copied);
        }
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            logger->warn("checkpoint of the write-ahead log failed: {}",
                         sqlite3_errmsg(own_.getHandle()));
        else
            logger->debug("checkpoint copied {} of {} log pages", copied, log_pages);
    }
}

}  // namespace hostline::controller::detail
