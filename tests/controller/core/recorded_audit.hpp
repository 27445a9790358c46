// An AuditTrail for tests: keeps every event it is given, in order, so a test can assert on
// what the code under test reported.
#pragma once

#include <string>
#include <vector>

#include "controller/jobs/audit_trail.hpp"

namespace hostline::controller {

class RecordedAudit final : public AuditTrail {
  public:
    void record(AuditEvent event) override { events.push_back(std::move(event)); }

    std::vector<std::string> kinds() const {
        std::vector<std::string> out;
        for (const auto& e : events) out.push_back(e.kind);
        return out;
    }
    std::vector<AuditEvent> of_kind(const std::string& kind) const {
        std::vector<AuditEvent> out;
        for (const auto& e : events)
            if (e.kind == kind) out.push_back(e);
        return out;
    }

    std::vector<AuditEvent> events;
};

}  // namespace hostline::controller
