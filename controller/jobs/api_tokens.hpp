// API tokens (docs/api.md, Tokens): named bearer secrets, each bound to the identity the API
// acts as when it is presented. Only the SHA-256 of a secret is kept; the secret itself is
// shown once, by create().
//
// Threads: every method is called on the controller's io_context thread and answers at once,
// without waiting for the store: identity_for() runs for every API request (see
// TokenRegistry), and create/revoke take effect in memory before their write commits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hostline::controller {

struct ApiTokenRecord {
    std::string name;           // letters, digits, '.', '_', '-'; at most 64
    std::string identity;       // platform:id, e.g. "slack:U024BE7LH"
    std::string created_by;     // the identity that created it
    std::string secret_sha256;  // lowercase hex; never shown by the API
    std::int64_t created_at_ms = 0;
    std::int64_t expires_at_ms = 0;  // 0: never
    std::int64_t last_used_ms = 0;   // 0: never
    std::int64_t revoked_at_ms = 0;  // 0: not revoked
};

struct NewApiToken {
    std::string name;
    std::string identity;
    std::string created_by;
    std::optional<std::int64_t> ttl_ms;  // empty: never expires
};

struct CreatedApiToken {
    ApiTokenRecord token;
    std::string secret;  // shown once; not kept
};

class ApiTokens {
  public:
    virtual ~ApiTokens() = default;

    // The identity a presented secret acts as. Errors (for a 401): unknown, revoked ("the
    // token 'ci' was revoked"), expired ("the token 'ci' expired at ...").
    virtual Result<std::string> identity_for(std::string_view secret) = 0;

    // Errors: a bad name, identity or ttl; a name in use by a live token. Audited as
    // token.created (without the secret).
    virtual Result<CreatedApiToken> create(const NewApiToken& request) = 0;

    // Every token, revoked and expired ones too, by name.
    virtual std::vector<ApiTokenRecord> list() const = 0;

    // Error: no live token of that name. Audited as token.revoked, `by` as the actor.
    virtual Result<void> revoke(const std::string& name, const std::string& by) = 0;
};

}  // namespace hostline::controller
