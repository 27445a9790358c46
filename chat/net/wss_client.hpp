// One WebSocket-over-TLS link (Slack's Socket Mode), text messages only.
//
// The TLS verification is HttpsClient's: chain, host name or IP address, SNI. Once open, the
// client answers the server's pings, sends its own after half the idle timeout of silence,
// and declares the link dead when the other half passes with nothing received: a half-open
// socket (the peer gone without a FIN) is noticed within idle_timeout. A message over
// max_message_bytes closes the link with 1009 (message too big).
//
// Thread: construct, call and destroy on the io_context's thread; callbacks run on it too,
// never from inside a method. One object is one link: to reconnect, make a new client (Slack
// wants a fresh URL each time anyway). Beast stays out of this header.
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

struct WssOptions {
    TlsOptions tls;
    std::chrono::milliseconds connect_timeout{30000};  // resolve, TCP, TLS and the upgrade
    std::chrono::milliseconds idle_timeout{30000};     // a ping at half, dead at the whole
    std::size_t max_message_bytes = 1024 * 1024;
    std::size_t max_queued_messages = 1000;  // send() refuses beyond this
};

// How a link ended. code is the close code the server sent (1000-4999), or 0 when there was
// no close frame (a dropped connection, a timeout, an error).
struct WssClosed {
    int code = 0;
    std::string reason;  // the server's reason, or what happened, in words
};

struct WssHandlers {
    // Once: the link is open, or why it could not be opened (names the host).
    std::function<void(Result<void>)> on_open;
    std::function<void(const std::string& text)> on_message;
    // Once, only after a successful open, and not after close() or the destructor.
    std::function<void(const WssClosed&)> on_closed;
};

class WssClient {
  public:
    // `io` must outlive the client. Error: the CA file cannot be loaded, or a bad option.
    static Result<std::unique_ptr<WssClient>> create(boost::asio::io_context& io,
                                                     WssOptions options);
    // Drops the connection without a close frame; no callback runs afterwards.
    ~WssClient();
    WssClient(const WssClient&) = delete;
    WssClient& operator=(const WssClient&) = delete;

    // Connects to a wss:// URL with extra upgrade headers (values never logged). Called once;
    // a second call fails through on_open.
    void connect(const std::string& url, Headers headers, WssHandlers handlers);

    // Queues a text message. Error: the link is not open, or the queue is full.
    Result<void> send(std::string text);

    // Sends a close frame (1000) and ends the link; messages not yet sent are discarded (the
    // one being written may be cut short), and no callback runs afterwards.
    void close();

    bool is_open() const;

  private:
    class Link;
    explicit WssClient(std::shared_ptr<Link> link);
    std::shared_ptr<Link> link_;  // shared with its pending handlers
};

}  // namespace hostline::chat::net
