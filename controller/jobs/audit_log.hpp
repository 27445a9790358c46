// Reading the audit chain back (the writing side is AuditTrail): pages of rows for
// `hostline audit` and `hostline audit export`, and the check behind `hostline audit verify`.
//
// Threads: called on the controller's io_context thread; callbacks come back on it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/jobs/job_service.hpp"

namespace hostline::controller {

// One stored row of the chain (docs/audit.md).
struct AuditRow {
    std::int64_t id = 0;  // 1, 2, 3, ... without gaps
    std::int64_t at_ms = 0;
    std::string kind;
    std::string actor;
    std::string subject;
    std::string detail;     // canonical JSON text: an object of strings, keys sorted
    std::string prev_hash;  // the previous row's hash; 64 zeros for the first row
    std::string hash;       // lowercase hex SHA-256 of audit_hash_input(row)
};

struct AuditQuery {
    bool oldest_first = false;   // export reads forwards, the listing backwards
    std::int64_t before_id = 0;  // only ids below this; 0: no bound
    std::int64_t after_id = 0;   // only ids above this
    std::int64_t since_ms = 0;   // only rows at or after this time
    std::string kind;            // only this kind; empty: all
    int limit = 50;              // clamped to [0, 500]
};

struct AuditVerification {
    std::int64_t rows = 0;        // rows checked
    std::int64_t broken_row = 0;  // the first row that fails; 0 when the chain is whole
    std::string problem;          // "row 17: hash does not match its contents"
};

class AuditLog {
  public:
    virtual ~AuditLog() = default;
    virtual void list(const AuditQuery& query, Callback<std::vector<AuditRow>> done) = 0;
    // Walks the whole chain from the first row. Error: the database could not be read.
    virtual void verify(Callback<AuditVerification> done) = 0;
};

}  // namespace hostline::controller
