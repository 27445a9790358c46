// The API tokens, held in memory and written through to the store.
//
// Why in memory: every API request resolves its bearer token, on the io_context thread,
// which must never wait for the store. The table is small (people and CI jobs, not
// sessions), so the registry loads it once at start (StoreSnapshot::tokens) and keeps it up
// to date itself: it is the only writer, so memory and database cannot disagree. create()
// and revoke() change memory first (a revoked token stops working at once), then queue the
// write. last_used is written at most once a minute per token.
//
// Threads: the io_context thread only.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "controller/jobs/api_tokens.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {

class TokenRegistry final : public ApiTokens {
  public:
    // `store` and `audit` must outlive the registry.
    TokenRegistry(Store& store, AuditTrail& audit, const std::vector<ApiTokenRecord>& tokens);

    Result<std::string> identity_for(std::string_view secret) override;
    Result<CreatedApiToken> create(const NewApiToken& request) override;
    std::vector<ApiTokenRecord> list() const override;
    Result<void> revoke(const std::string& name, const std::string& by) override;

  private:
    struct Entry {
        ApiTokenRecord record;
        std::array<unsigned char, 32> digest{};  // record.secret_sha256 as bytes
        std::int64_t saved_last_used_ms = 0;
    };

    Store& store_;
    AuditTrail& audit_;
    std::map<std::string, Entry> tokens_;  // by name
};

}  // namespace hostline::controller
