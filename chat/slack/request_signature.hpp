// The Events API over HTTP (the alternative to Socket Mode): checking that a request came from
// Slack, and answering the url_verification handshake.
//
// Slack signs each request (python-slack-sdk slack_sdk/signature): X-Slack-Signature =
// "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body)).
// The body must be the raw bytes as received, before any JSON or form parsing. Pure functions;
// any thread may call them. The signing secret never appears in an error.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::slack {

// How far a request's timestamp may be from now, either way: Slack's 5 minutes, which bounds
// how long a captured request could be replayed.
inline constexpr std::chrono::seconds kSignatureWindow{300};

struct SignedRequest {
    std::string_view timestamp;  // X-Slack-Request-Timestamp: Unix seconds
    std::string_view signature;  // X-Slack-Signature: "v0=<64 hex digits>"
    std::string_view body;       // the raw body
};

// OK when the signature is right (compared in constant time) and the timestamp within
// kSignatureWindow of `now`. Error, saying which: a missing or malformed header, a stale or
// future timestamp, a signature that does not match. Also an error for an empty secret.
Result<void> verify_signature(std::string_view signing_secret, const SignedRequest& request,
                              std::chrono::system_clock::time_point now);

// For a url_verification body ({"type":"url_verification","challenge":"…"}): the challenge to
// answer with (HTTP 200, text/plain). Error: not JSON, another type, or no usable challenge.
Result<std::string> url_verification_challenge(std::string_view body);

}  // namespace hostline::chat::slack
