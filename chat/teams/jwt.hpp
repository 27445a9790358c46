// A compact JWS (RFC 7515) as the Bot Framework signs its requests: parsing, and RS256/384/512
// signature checks with an RSA key from a JWK (RFC 7517: modulus n and exponent e).
//
// Only what a Bot Framework token needs is read; the checks of the claims' values (issuer,
// audience, times) belong to bot_framework_auth. Pure values and functions; any thread may call
// them. Error messages never contain the token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace hostline::chat::teams {

// A token longer than this is refused before anything is decoded. Bot Framework tokens are
// about 1.5 KiB.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

struct JwtHeader {
    std::string alg;  // "RS256"…; anything else is refused when verifying
    std::string kid;  // empty when the header has none
};

// The registered claims Bot Framework tokens carry, plus its `serviceurl`. Times are seconds
// since the Unix epoch (NumericDate; fractions are dropped).
struct JwtClaims {
    std::string issuer;                      // iss
    std::vector<std::string> audiences;      // aud: a string or an array of strings
    std::optional<std::int64_t> expires_at;  // exp
    std::optional<std::int64_t> not_before;  // nbf
    std::string service_url;                 // serviceurl (Bot Framework's own claim)
};

struct CompactJws {
    JwtHeader header;
    JwtClaims claims;
    std::string signing_input;  // "header.payload" exactly as received: what was signed
    std::string signature;      // decoded bytes
};

// Strict parse: exactly three non-empty dot-separated parts, each valid base64url, header and
// payload JSON objects, at most kMaxTokenBytes, and claims of the right JSON types when present
// (a string where a string belongs, a number for exp and nbf). Does not check the signature.
Result<CompactJws> parse_compact_jws(std::string_view token);

// RS256, RS384 or RS512: the algorithms the Bot Framework signs with. Everything else ("none",
// HS256 with a public key as the secret, PS256, …) is refused.
bool is_accepted_algorithm(std::string_view alg);

// An RSA public key for verifying signatures. Cheap to copy (the key is shared, immutable).
class RsaPublicKey {
  public:
    // From a JWK's base64url `n` and `e`. Refuses moduli under 2048 bits or over 8192, and
    // exponents that are even, 1, or longer than 8 bytes.
    static Result<RsaPublicKey> from_jwk(std::string_view n, std::string_view e);

    // Checks `signature` over `signing_input` with PKCS #1 v1.5 and the hash the algorithm
    // names: RS256, RS384 or RS512. Refuses any other algorithm ("none", HS256, PS256, …) by
    // name, before looking at the signature.
    Result<void> verify(std::string_view alg, std::string_view signing_input,
                        std::string_view signature) const;

  private:
    explicit RsaPublicKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
    std::shared_ptr<evp_pkey_st> key_;
};

}  // namespace hostline::chat::teams
