// One keep-alive HTTP/1.1 connection to a controller, for timing requests: a browser or the
// UI's fetches reuse their connection, so a new TCP handshake per request would measure the
// wrong thing. Synchronous, one request at a time; not thread-safe.
#pragma once

#include <memory>
#include <string>

namespace hostline::bench {

struct Answer {
    unsigned status = 0;
    std::size_t body_bytes = 0;
    std::string body;  // moved out of the response, not copied: what the bench checks it by
};

class KeepAliveClient {
  public:
    // url: http://HOST:PORT as in LocalCluster::http_url(); token: sent as a bearer token.
    KeepAliveClient(const std::string& url, std::string token);
    ~KeepAliveClient();
    KeepAliveClient(const KeepAliveClient&) = delete;
    KeepAliveClient& operator=(const KeepAliveClient&) = delete;

    // GET target on the open connection, reconnecting first if the server closed it. Throws
    // std::runtime_error when no answer comes. A streamed answer (an events stream) is read
    // to its end.
    Answer get(const std::string& target);
    // POST a JSON body. Not retried on a reused connection that fails: the server may have
    // taken it (a job submitted twice); throws instead.
    Answer post(const std::string& target, const std::string& json);

  private:
    struct Connection;
    Answer exchange(bool post, const std::string& target, const std::string& json);  // one try

    std::unique_ptr<Connection> connection_;
    std::string host_, port_, token_;
};

}  // namespace hostline::bench
