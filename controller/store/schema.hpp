// The database's schema version, read and upgraded outside a running store: for
// `hostline-controller init`, which packages run on every install and upgrade. Store::open
// migrates the same way (the same code), so an upgrade by init or by a start is one upgrade.
//
// Threads: any; each call opens its own connection and closes it before returning.
// Errors: the database cannot be opened or read, a migration failed, or its schema is newer
// than this binary knows (the message names both versions and what to do).
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"

namespace hostline::controller {

// The newest schema version this binary knows (the last migration's number).
int known_schema_version();

struct SchemaState {
    int version = 0;              // the highest migration applied; 0: an empty database
    bool upgrade_needed = false;  // some migration this binary knows is not applied yet
};

// Reads the schema of the database at path without changing it (nothing is written).
// nullopt when there is no file at path. Error also when its schema is newer than ours.
Result<std::optional<SchemaState>> check_schema(const std::string& path);

struct SchemaUpgrade {
    int from = 0;  // 0: the database was empty (or created)
    int to = 0;
    int applied = 0;  // migrations applied now (a reserved number filled in may not raise `to`)
};

// Opens the database at path (creating it), applies the pending migrations in one
// transaction (as Store::open does), and closes it. from == to when none was pending.
Result<SchemaUpgrade> upgrade_schema(const std::string& path);

}  // namespace hostline::controller
