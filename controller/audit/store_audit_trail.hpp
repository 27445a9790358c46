// The audit trail kept in the controller's store (docs/audit.md): record() appends one row
// of the hash chain; list() and verify() read it back for the API.
//
// Threads: the io_context thread, like the Store calls it makes. record() only queues the
// row; the store chains it on its own thread in commit order and logs a write that fails.
#pragma once

#include "controller/jobs/audit_log.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {

class StoreAuditTrail final : public AuditTrail, public AuditLog {
  public:
    // `store` must outlive this.
    explicit StoreAuditTrail(Store& store) : store_(store) {}

    void record(AuditEvent event) override;
    void list(const AuditQuery& query, Callback<std::vector<AuditRow>> done) override;
    void verify(Callback<AuditVerification> done) override;

  private:
    Store& store_;
};

}  // namespace hostline::controller
