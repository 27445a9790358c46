// A copy of the controller's database, taken with SQLite's online backup API: safe while the
// controller runs. `hostline-controller backup` and init's pre-upgrade backup both use it.
//
// The copy reads one snapshot of the database (a read transaction in WAL mode, held from the
// first page to the last), so it holds exactly what was committed when it began, and writers
// are never blocked by it: the controller keeps committing to the WAL meanwhile (the WAL
// cannot be checkpointed past that snapshot until the copy ends).
//
// Threads: any; blocks the caller until the copy is done. Errors are values: no database at
// source, dest exists (unless replace), dest's directory is missing or not writable, a read
// or write failed, the copy failed PRAGMA quick_check. dest is never left half-written: the
// copy is made under a temporary name beside it and renamed into place only once checked.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.hpp"

namespace hostline::controller {

struct BackupOptions {
    bool replace = false;  // replace dest when it exists
    // After each step of the copy, with pages copied so far and the total (equal after the
    // last); may be empty.
    std::function<void(int copied, int total)> progress;
};

struct BackupReport {
    std::string path;        // dest
    std::int64_t bytes = 0;  // the copy's size
    int schema_version = 0;  // of the copy
};

// Copies the database at source to dest (mode 0600, a single file in rollback-journal mode,
// ready to be put back as DATA_DIR/hostline.db).
Result<BackupReport> backup_database(const std::string& source, const std::string& dest,
                                     const BackupOptions& options = {});

}  // namespace hostline::controller
