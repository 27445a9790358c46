// The store's schema as numbered migrations (SQL text only; sqlite_store.cpp applies them).
//
// Migration N takes a database from schema version N-1 to N. Append new migrations at the
// end; never edit one that has shipped, since databases already at its version skip it.
#pragma once

#include <span>
#include <string_view>

namespace hostline::controller::detail {

struct Migration {
    int version;           // 1, 2, 3, ... in order; a number may be reserved and filled later
    std::string_view sql;  // one or more statements, run inside the migration transaction
};

std::span<const Migration> migrations();

}  // namespace hostline::controller::detail
