// An asynchronous HTTPS/1.1 client for the chat platforms' web APIs (Slack's Web API, Bot
// Framework's token endpoint and connector, OpenID metadata and keys).
//
// Every connection is TLS with the chain and the host name (or IP address) verified, SNI set.
// Connections are kept alive per host:port and reused; one idle for 60 s is closed. A
// connection is used by one request at a time; concurrent requests to one host open more.
//
// Thread: construct, call and destroy on the io_context's thread; callbacks run on it too,
// never from inside request(). Beast stays out of this header.
//
// Destroying the client with requests in flight closes their connections; their callbacks
// are DROPPED (never called), since whoever would receive them is being torn down too.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "chat/net/tls_options.hpp"
#include "common/error.hpp"

namespace boost::asio {
class io_context;
}

namespace hostline::chat::net {

struct HttpRequest {
    std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE, HEAD
    std::string url;             // https://host[:port]/path?query
    Headers headers;             // Host, Content-Length and User-Agent are set by the client
    std::string body;
    // For the whole exchange: connecting, the TLS handshake, sending, and the whole reply.
    std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
    int status = 0;
    Headers headers;  // as received, in order; names in the server's case
    std::string body;

    // The first header of that name (case-insensitive), or "" when there is none.
    std::string header(const std::string& name) const;
};

struct HttpsClientOptions {
    TlsOptions tls;
    // A reply body above this fails the request ("... over the 8 MiB limit").
    std::size_t max_body_bytes = 8 * 1024 * 1024;
    std::chrono::milliseconds idle_close{60000};  // idle keep-alive connections closed after
    std::size_t max_idle_per_host = 4;
};

class HttpsClient {
  public:
    // `io` must outlive the client. Error: the CA file cannot be loaded.
    static Result<std::unique_ptr<HttpsClient>> create(boost::asio::io_context& io,
                                                       HttpsClientOptions options);
    ~HttpsClient();
    HttpsClient(const HttpsClient&) = delete;
    HttpsClient& operator=(const HttpsClient&) = delete;

    // Sends the request; `done` gets the reply, whatever its status (a 429 or a 500 is a
    // reply, not an error), or an error naming the host and why: a bad URL or header,
    // "cannot resolve", "connection refused", "certificate verify failed: ...", "timed out
    // after 30 s", a body over the limit, a malformed reply. A request that fails on a reused
    // keep-alive connection before any byte of the reply arrives (the server had closed it)
    // is sent once more on a new connection.
    void request(HttpRequest request, std::function<void(Result<HttpResponse>)> done);

    // Connections open now, idle or busy (for tests and metrics).
    std::size_t open_connections() const;

  private:
    class Pool;
    explicit HttpsClient(std::shared_ptr<Pool> pool);
    std::shared_ptr<Pool> pool_;  // shared with its pending handlers
};

}  // namespace hostline::chat::net
