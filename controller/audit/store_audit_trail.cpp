#include "controller/audit/store_audit_trail.hpp"

#include <chrono>
#include <utility>

namespace hostline::controller {

void StoreAuditTrail::record(AuditEvent event) {
    using namespace std::chrono;
    const auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    store_.append_audit(event, now);
}

void StoreAuditTrail::list(const AuditQuery& query, Callback<std::vector<AuditRow>> done) {
    store_.audit(query, std::move(done));
}

void StoreAuditTrail::verify(Callback<AuditVerification> done) {
    store_.verify_audit(std::move(done));
}

}  // namespace hostline::controller
