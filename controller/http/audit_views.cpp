#include "controller/http/audit_views.hpp"

namespace hostline::controller::http {
namespace {

Json optional_ms(std::int64_t ms) {
    return ms == 0 ? Json(nullptr) : Json(ms);
}

}  // namespace

Json audit_row_json(const AuditRow& row) {
    // The stored detail is our own canonical JSON, so parsing it in key order gives back the
    // exact text that was hashed when dumped compactly.
    Json detail = Json::parse(row.detail, nullptr, false);
    if (detail.is_discarded()) detail = row.detail;
    return Json{{"id", row.id},
                {"at_ms", row.at_ms},
                {"kind", row.kind},
                {"actor", row.actor},
                {"subject", row.subject},
                {"detail", std::move(detail)},
                {"prev_hash", row.prev_hash},
                {"hash", row.hash}};
}

Json verification_json(const AuditVerification& verification) {
    const bool ok = verification.broken_row == 0;
    return Json{{"ok", ok},
                {"rows", verification.rows},
                {"broken_row", ok ? Json(nullptr) : Json(verification.broken_row)},
                {"problem", ok ? Json(nullptr) : Json(verification.problem)}};
}

Json token_json(const ApiTokenRecord& token, std::int64_t now_ms) {
    const char* state = token.revoked_at_ms != 0                                    ? "revoked"
                        : token.expires_at_ms != 0 && token.expires_at_ms <= now_ms ? "expired"
                                                                                    : "active";
    return Json{{"name", token.name},
                {"identity", token.identity},
                {"created_by", token.created_by},
                {"created_at_ms", token.created_at_ms},
                {"expires_at_ms", optional_ms(token.expires_at_ms)},
                {"last_used_ms", optional_ms(token.last_used_ms)},
                {"revoked_at_ms", optional_ms(token.revoked_at_ms)},
                {"state", state}};
}

}  // namespace hostline::controller::http
