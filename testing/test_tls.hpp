// TLS for tests: a throwaway certificate authority, and a small HTTPS + WSS server on
// 127.0.0.1 that the fakes of Slack and Bot Framework are built on.
//
//   TestCa ca;                                  // CA + a server cert for 127.0.0.1, localhost
//   TlsTestServer server(ca.server());          // listening on 127.0.0.1:<free port>
//   server.on("POST", "/api/chat.postMessage", [](const RecordedRequest& r) {
//       return TestResponse{200, {{"Content-Type", "application/json"}}, R"({"ok":true})"};
//   });
//   server.on_websocket("/link", [](std::shared_ptr<WsPeer> peer) { peer->send("hello"); });
//   client.ca_file = ca.ca_file(); url = server.url("/api/chat.postMessage");
//
// Failures to set up (OpenSSL, a busy port) throw std::runtime_error: this is test support.
// Beast and OpenSSL stay in the .cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hostline::testing {

using TestHeaders = std::vector<std::pair<std::string, std::string>>;

// A server certificate and its key, as PEM files.
struct ServerIdentity {
    std::string cert_file;
    std::string key_file;
};

// A CA made with the OpenSSL API (EC P-256 keys), its files in a temporary directory that
// the destructor removes. Not thread-safe; make it before the servers that use it.
class TestCa {
  public:
    // Makes the CA and a server certificate for IP 127.0.0.1 and DNS localhost.
    explicit TestCa(const std::string& name = "Hostline Test CA");
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;

    const std::string& ca_file() const { return ca_cert_file_; }  // trust this
    const ServerIdentity& server() const { return server_; }      // 127.0.0.1 + localhost

    // Another server certificate signed by this CA, with exactly these subjectAltNames (for
    // name-mismatch tests). `label` names its files.
    ServerIdentity issue(const std::string& label, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses);

  private:
    struct Keys;
    std::string dir_;
    std::string ca_cert_file_;
    std::unique_ptr<Keys> keys_;
    ServerIdentity server_;
};

// A request as the server received it.
struct RecordedRequest {
    std::string method;
    std::string target;  // path and query
    std::string path;    // without the query
    TestHeaders headers;
    std::string body;
    std::uint64_t connection = 0;  // which TCP connection carried it (1, 2, ...)
    std::string sni;               // the TLS server name the client asked for; "" if none

    std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

struct TestResponse {
    int status = 200;
    TestHeaders headers;
    std::string body;
    // Wait this long before answering (timeouts); the server keeps serving others meanwhile.
    std::chrono::milliseconds delay{0};
    // Close the TCP connection after this reply although it did not say so: a server whose
    // keep-alive timeout ran out while the client held the connection idle.
    bool close_after = false;
};

// One WebSocket client of the server. Methods may be called from any thread (they post to
// the server's thread) and do nothing once the connection has ended.
class WsPeer {
  public:
    virtual ~WsPeer() = default;
    virtual void send(std::string text) = 0;
    // A close frame with this code and reason; the connection ends once the client answers.
    virtual void close(int code, std::string reason = "") = 0;
    // Closes the TCP connection with no close frame, as a crashed server or a proxy would.
    virtual void drop() = 0;
    // Called on the server's thread for each text message received. Set it inside the
    // websocket handler to see every message; messages() records them either way.
    virtual void on_message(std::function<void(const std::string&)> handler) = 0;
    virtual std::vector<std::string> messages() const = 0;
    virtual RecordedRequest upgrade_request() const = 0;  // the HTTP request that opened it
    virtual bool is_open() const = 0;
};

// An HTTPS and WSS server on 127.0.0.1:<free port>, one thread of its own. Handlers run on
// that thread; on()/on_websocket() and the queries may be called from any thread. A request
// with no handler gets 404. The destructor closes everything and joins the thread.
class TlsTestServer {
  public:
    explicit TlsTestServer(const ServerIdentity& identity);
    ~TlsTestServer();
    TlsTestServer(const TlsTestServer&) = delete;
    TlsTestServer& operator=(const TlsTestServer&) = delete;

    std::uint16_t port() const;
    // "https://127.0.0.1:<port><path>"; scheme "wss" for WebSocket paths.
    std::string url(const std::string& path, const std::string& scheme = "https",
                    const std::string& host = "127.0.0.1") const;

    using Handler = std::function<TestResponse(const RecordedRequest&)>;
    void on(const std::string& method, const std::string& path, Handler handler);
    // An upgrade request for `path` becomes a WebSocket; handler gets the peer once open.
    void on_websocket(const std::string& path,
                      std::function<void(std::shared_ptr<WsPeer>)> handler);

    std::vector<RecordedRequest> requests() const;  // every HTTP request, upgrades included
    std::uint64_t connections_accepted() const;
    // Waits up to `timeout` until at least `count` requests have been recorded.
    bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const;

  private:
    class Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace hostline::testing
