// CURVE key pairs (Z85 text, 40 characters each) and their files.
//
// A key pair lives in DIR/NAME.key (the secret key, mode 0600) with DIR/NAME.pub beside it
// (the public key, safe to share). Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::transport {

struct CurveKeyPair {
    std::string public_key;
    std::string secret_key;
};

Result<CurveKeyPair> generate_key_pair();

// "SHA256:" and the first 16 hex digits of the SHA-256 of the key's Z85 text: how the agent,
// the controller and `hostline agents` show a key, so an admin can compare them.
std::string key_fingerprint(std::string_view public_key);

// Whether text is a 40-character Z85 CURVE key.
bool is_curve_key(std::string_view text);

// Loads DIR/NAME.key, or creates the pair (and DIR, mode 0700) when it does not exist.
// Refuses a secret key file that others can read. The secret key is 0600 from the moment it
// exists, so it stays private also in a DIR others may traverse (the agent's is 0711).
Result<CurveKeyPair> load_or_create_key_pair(const std::string& dir, const std::string& name);

// Reads a public key file (one Z85 key; surrounding whitespace ignored).
Result<std::string> read_public_key(const std::string& path);

// Writes text to path atomically (temporary file + rename) with the given mode.
Result<void> write_file_atomically(const std::string& path, std::string_view text, unsigned mode);

}  // namespace hostline::transport
