// The TLS client setup that HttpsClient and WssClient share: one ssl::context per client,
// and per connection SNI plus the host name or IP address the certificate must carry.
// Internal to chat/net (it includes Asio's SSL headers); the public headers stay free of it.
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include "chat/net/tls_options.hpp"
#include "common/error.hpp"

namespace hostline::chat::net {

// A client context that trusts options.ca_file (or the system store), verifies peers and
// refuses anything older than TLS 1.2. Error: the CA file cannot be read.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_context(const TlsOptions& options);

// Before the handshake: SNI for a DNS name, and the name or IP address that the leaf
// certificate's subjectAltName must match. OpenSSL checks it during the chain verification
// (X509_VERIFY_PARAM_set1_host / set1_ip_asc), so a mismatch fails the handshake with
// "Hostname mismatch" / "IP address mismatch" rather than a bare verify failure.
Result<void> expect_peer(SSL* ssl, const std::string& host);

// A handshake or read error in words: for a refused certificate, "certificate verify
// failed: <OpenSSL's reason>".
std::string describe_tls_error(const boost::system::error_code& ec, SSL* ssl);

}  // namespace hostline::chat::net
