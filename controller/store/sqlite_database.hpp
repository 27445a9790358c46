// Opening and migrating the SQLite database: shared by the store (Store::open) and the
// schema and backup commands. Inside hostline_store only: it shows SQLiteCpp.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <string>

#include "common/error.hpp"
#include "controller/store/schema.hpp"

namespace hostline::controller::detail {

// How long a statement waits for another connection's lock before SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;

// Opens (creating) the database for writing with WAL, synchronous=NORMAL, foreign_keys=ON
// and the busy timeout. Throws SQLite::Exception.
SQLite::Database open_database(const std::string& path);

// Opens an existing database to read it (never creating it), read-write when we may: the
// last connection to close a WAL database removes its -wal and -shm files, where a read-only
// one would leave them behind, owned by whoever ran the command (root, say), and a
// controller started later as its own user could not open them. Falls back to read-only.
// Throws SQLite::Exception.
SQLite::Database open_existing(const std::string& path);

// Applies every migration this binary knows that the database lacks, in one IMMEDIATE
// transaction (two controllers starting on one file cannot both migrate). Error: its schema
// is newer than ours, or a migration failed (then nothing is applied). May throw
// SQLite::Exception for I/O errors.
Result<SchemaUpgrade> migrate(SQLite::Database& db);

}  // namespace hostline::controller::detail
