// How audit rows, the chain's verification and API tokens look in the API's JSON
// (docs/api.md, Audit and Tokens). Pure functions with no I/O.
#pragma once

#include <cstdint>

#include "controller/http/json_views.hpp"
#include "controller/jobs/api_tokens.hpp"
#include "controller/jobs/audit_log.hpp"

namespace hostline::controller::http {

// {"id","at_ms","kind","actor","subject","detail" (an object),"prev_hash","hash"}
Json audit_row_json(const AuditRow& row);
// {"ok","rows","broken_row" (null when ok),"problem" (null when ok)}
Json verification_json(const AuditVerification& verification);
// Never the secret or its hash. "state": active, expired or revoked at now_ms.
Json token_json(const ApiTokenRecord& token, std::int64_t now_ms);

}  // namespace hostline::controller::http
