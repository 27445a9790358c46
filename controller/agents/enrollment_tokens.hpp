// The enrollment tokens the controller has issued, kept in one file (0600) so they survive a
// restart: one line per token with the SHA-256 of its secret (never the secret), its expiry,
// the uses left and the labels it gives. io_context thread only; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace hostline::controller {

struct TokenGrant {
    std::string id;  // the first 12 hex digits of the secret's hash
    std::int64_t expires_ms = 0;
    std::uint32_t uses_left = 0;
    std::map<std::string, std::string> labels;
};

class EnrollmentTokens {
  public:
    explicit EnrollmentTokens(std::string path);

    // Reads the file (a missing file is no tokens). Error: a line that cannot be read.
    Result<void> load();

    // A new token's secret (64 hex digits) and what it grants. Errors: bad labels, ttl
    // outside 1 second to 30 days, uses outside 1 to 10000, the file cannot be written.
    Result<std::pair<std::string, TokenGrant>> create(std::map<std::string, std::string> labels,
                                                      std::int64_t ttl_ms, std::uint32_t uses,
                                                      std::int64_t now_ms);

    // Uses the token once. Errors say why a token is refused: unknown, used up, expired.
    Result<TokenGrant> redeem(const std::string& secret, std::int64_t now_ms);

  private:
    struct Entry {
        std::string hash;
        TokenGrant grant;
    };
    Result<void> save() const;

    const std::string path_;
    std::vector<Entry> entries_;
};

// Labels in tokens and agent.toml: keys 1-64 of [A-Za-z0-9._-], values 0-128 of
// [A-Za-z0-9._:/+-]. Error: which label is wrong and why.
Result<void> check_labels(const std::map<std::string, std::string>& labels);

}  // namespace hostline::controller
