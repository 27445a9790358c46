// A streamed response carried over a WebSocket: what a Session hands its socket to when a
// route answers an upgrade request with Exchange::start_websocket(). Beast's WebSocket code
// stays in websocket_stream.cpp, so this header and its includers do not compile it.
//
// Runs on the io_context thread. The stream keeps itself alive through its pending
// operations and is a Connection of the ServerState, so HttpServer::stop() closes it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "controller/http/exchange.hpp"
#include "controller/http/server_state.hpp"

namespace hostline::controller::http {

class MessageStream {
  public:
    virtual ~MessageStream() = default;

    // Queues each line of `lines` ('\n'-terminated; empty lines are dropped) as one text
    // message. Ignored after end() or once the connection has closed.
    virtual void send(std::string_view lines) = 0;

    // Bytes of the queued messages not yet written, the one being written included.
    virtual std::size_t unwritten_bytes() const = 0;

    // Writes what is queued, then a close frame with code 1000 (normal); the connection ends
    // when the client answers it, or after the close handshake's timeout.
    virtual void end() = 0;
};

// Answers `upgrade` (a request with websocket_upgrade set, as the Session read it) with 101 on
// `socket` and returns the stream. Messages sent before the handshake completes wait for it.
// on_client_gone is called at most once, if the connection closes before end(): the client
// closed or vanished, a write timed out, the client sent a message larger than 4 KiB, the
// handshake failed, or the server stopped.
std::shared_ptr<MessageStream> accept_websocket(boost::asio::ip::tcp::socket socket,
                                                const Request& upgrade,
                                                std::shared_ptr<ServerState> state,
                                                std::function<void()> on_client_gone);

}  // namespace hostline::controller::http
