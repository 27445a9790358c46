// The one-line enrollment token an admin hands to a new host:
//   hle1.<base64url of "ENDPOINT\nCONTROLLER_PUBLIC_KEY\nSECRET">
// ENDPOINT is where agents connect (tcp://host:port), the key is the controller's CURVE
// public key (Z85), SECRET 64 hex digits of randomness. The controller keeps only a hash of
// the secret. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::enrollment {

inline constexpr std::string_view kTokenPrefix = "hle1.";

struct EnrollmentToken {
    std::string endpoint;
    std::string controller_key;
    std::string secret;
    bool operator==(const EnrollmentToken&) const = default;
};

std::string encode_token(const EnrollmentToken& token);

// Errors say what is wrong: not a Hostline token, another version, not base64url,
// truncated, a bad endpoint, key or secret.
Result<EnrollmentToken> decode_token(std::string_view text);

// Whether text is 64 lowercase hex digits, the shape of a token secret.
bool is_token_secret(std::string_view text);

}  // namespace hostline::enrollment
