#include "controller/store/schema.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>

#include "common/log/module_logger.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/sqlite_database.hpp"

static constinit hostline::log::ModuleLogger logger{"store"};

namespace hostline::controller {
namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The versions applied to db; empty when it has no schema_version table (a new database).
std::set<int> applied_versions(const SQLite::Database& db) {
    std::set<int> applied;
    if (!db.tableExists("schema_version")) return applied;
    SQLite::Statement versions(db, "SELECT version FROM schema_version");
    while (versions.executeStep()) applied.insert(versions.getColumn(0).getInt());
    return applied;
}

// The same words wherever a newer schema is met: at start, in init, in check_schema.
Error newer_schema(int found) {
    return fail(
        fmt::format("the database has schema version {}, newer than this hostline-controller "
                    "knows ({}); install the hostline-controller that wrote it, or restore a "
                    "backup taken before the upgrade",
                    found, known_schema_version()));
}

}  // namespace

int known_schema_version() {
    const auto all = detail::migrations();
    return all.empty() ? 0 : all.back().version;
}

Result<std::optional<SchemaState>> check_schema(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<SchemaState>();
        return fail(fmt::format("cannot read the database {}: {}", path, std::strerror(errno)));
    }
    try {
        SQLite::Database db = detail::open_existing(path);
        const std::set<int> applied = applied_versions(db);
        SchemaState state;
        state.version = applied.empty() ? 0 : *applied.rbegin();
        if (state.version > known_schema_version()) return newer_schema(state.version);
        for (const auto& migration : detail::migrations())
            state.upgrade_needed = state.upgrade_needed || !applied.contains(migration.version);
        return std::optional<SchemaState>(state);
    } catch (const std::exception& e) {
        return fail(fmt::format("cannot read the database {}: {}", path, e.what()));
    }
}

Result<SchemaUpgrade> upgrade_schema(const std::string& path) {
    try {
        SQLite::Database db = detail::open_database(path);
        auto upgraded = detail::migrate(db);
        if (!upgraded)
            return fail(
                fmt::format("cannot upgrade the database {}: {}", path, upgraded.error().message));
        return upgraded;
    } catch (const std::exception& e) {
        return fail(fmt::format("cannot open the database {}: {}", path, e.what()));
    }
}

namespace detail {

SQLite::Database open_database(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
    const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") logger->warn("{} is in journal mode '{}', not WAL", path, mode);
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    return db;
}

SQLite::Database open_existing(const std::string& path) {
    try {
        return SQLite::Database(path, SQLite::OPEN_READWRITE, kBusyTimeoutMs);
    } catch (const SQLite::Exception&) {
        return SQLite::Database(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    }
}

Result<SchemaUpgrade> migrate(SQLite::Database& db) {
    // IMMEDIATE: two controllers starting on one file cannot both migrate. Rolls back unless
    // committed.
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
    const std::set<int> applied = applied_versions(db);
    SchemaUpgrade upgrade;
    upgrade.from = applied.empty() ? 0 : *applied.rbegin();
    upgrade.to = upgrade.from;
    if (upgrade.from > known_schema_version()) return newer_schema(upgrade.from);
    for (const auto& migration : migrations()) {
        // Not `<= from`: numbers may be reserved for work merged later, and a database
        // that has 4 and 7 must still get 5 and 6 once this binary knows them.
        if (applied.contains(migration.version)) continue;
        // Said before, not after: some copy a table (15: the stored output, ~13 s per GiB).
        logger->info("migrating the database to schema version {}", migration.version);
        try {
            db.exec(std::string(migration.sql));
            SQLite::Statement record(
                db, "INSERT INTO schema_version (version, applied_at_ms) VALUES (?, ?)");
            record.bind(1, migration.version);
            record.bind(2, now_ms());
            record.exec();
        } catch (const std::exception& e) {
            return fail(fmt::format("schema migration {} failed: {}", migration.version, e.what()));
        }
        upgrade.to = std::max(upgrade.to, migration.version);
        ++upgrade.applied;
    }
    transaction.commit();
    return upgrade;
}

}  // namespace detail
}  // namespace hostline::controller
