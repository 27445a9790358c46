// The audit hash chain (docs/audit.md): how a row's hash is computed and how a chain of
// rows is checked. Pure functions; safe from any thread. The store computes hashes on its
// thread as it appends; verification runs there too, over the rows as stored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "controller/jobs/audit_log.hpp"

namespace hostline::controller {

// The first row's prev_hash.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The detail as stored and hashed: a JSON object of strings, keys sorted, no spaces, invalid
// UTF-8 replaced by U+FFFD.
std::string canonical_audit_detail(const std::map<std::string, std::string>& detail);

// The bytes hashed for a row: "hostline-audit-v1" then each of id, at_ms (decimal), kind,
// actor, subject, detail and prev_hash as <length>:<bytes>, so no field can spill into the
// next.
std::string audit_hash_input(const AuditRow& row);

// Lowercase hex SHA-256 of audit_hash_input(row).
std::string audit_hash(const AuditRow& row);

// Checks rows in id order, one at a time, and remembers the first that breaks the chain.
class AuditChainCheck {
  public:
    // False once a row is broken (that one and every later call).
    bool add(const AuditRow& row);
    const AuditVerification& result() const { return result_; }

  private:
    bool broken(const AuditRow& row, std::string problem);

    AuditVerification result_;
    std::int64_t last_id_ = 0;
    std::string last_hash_ = std::string(kAuditGenesisHash);
};

}  // namespace hostline::controller
