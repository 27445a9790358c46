#include "chat/net/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <exception>

namespace hostline::chat::net {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> make_client_context(const TlsOptions& options) {
    std::shared_ptr<ssl::context> context;
    try {
        context = std::make_shared<ssl::context>(ssl::context::tls_client);
    } catch (const std::exception& e) {
        return fail(std::string("cannot create a TLS context: ") + e.what());
    }
    boost::system::error_code ec;
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
    if (options.ca_file.empty()) {
        context->set_default_verify_paths(ec);
    } else {
        context->load_verify_file(options.ca_file, ec);
    }
    if (ec) {
        return fail("cannot load CA certificates" +
                    (options.ca_file.empty() ? std::string(" from the system store")
                                             : " from " + options.ca_file) +
                    ": " + ec.message());
    }
    context->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return fail("cannot enable certificate verification: " + ec.message());
    return context;
}

Result<void> expect_peer(SSL* ssl, const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    const bool is_ip = !ec;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_ip) {
        // RFC 6066: no SNI for an address literal.
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
            return fail("cannot expect IP address " + host + " in the certificate");
        return {};
    }
    if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return fail("cannot set SNI to " + host);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1)
        return fail("cannot expect host name " + host + " in the certificate");
    return {};
}

std::string describe_tls_error(const boost::system::error_code& ec, SSL* ssl) {
    if (ssl != nullptr && ec.category() == boost::asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long result = SSL_get_verify_result(ssl);
        return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
    }
    if (ec == ssl::error::stream_truncated) return "the server closed the TLS stream uncleanly";
    return ec.message();
}

}  // namespace hostline::chat::net
