// SASL PLAIN for IRC (IRCv3 sasl-3.1): the credentials as AUTHENTICATE payloads.
//
//   C: AUTHENTICATE PLAIN      S: AUTHENTICATE +
//   C: AUTHENTICATE <chunk>... (each authenticate_chunks() result, in order)
//   S: 900 + 903 on success; 904/905 failed, 906 aborted, 907 already authenticated
//
// Pure functions; any thread may call them. The results contain the password: do not log
// them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hostline::chat::irc {

// RFC 4648 §4 base64 with '=' padding.
std::string base64_encode(std::string_view bytes);

// base64("authzid\0authcid\0password") (RFC 4616). `authzid` is usually empty: act as the
// account we authenticate as.
std::string sasl_plain_payload(std::string_view authzid, std::string_view authcid,
                               std::string_view password);

// Splits a base64 payload into the parameters of successive AUTHENTICATE lines: 400-byte
// pieces, then "+" when the last piece was exactly 400 bytes (or the payload is empty) so the
// server knows the payload has ended.
std::vector<std::string> authenticate_chunks(std::string_view payload);

}  // namespace hostline::chat::irc
