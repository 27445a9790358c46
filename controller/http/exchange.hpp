// The boundary between the HTTP transport and the API: a request and a response as plain
// values, and the Exchange through which one request is answered.
//
// session.cpp (the only file that includes Beast) implements Exchange; routes.cpp and
// event_stream.cpp use it. Everything here runs on the io_context thread.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace hostline::controller::http {

struct Request {
    std::string method;         // as sent: "GET", "POST", ...
    std::string target;         // path and query string, as sent
    std::string authorization;  // the Authorization header; empty when absent
    std::string body;
    // Every header as sent, for routes that need more than Authorization (the webhooks'
    // signatures).
    std::vector<std::pair<std::string, std::string>> headers;
    // A WebSocket handshake (GET with Connection: Upgrade and Upgrade: websocket). Routes that
    // offer a WebSocket answer it with start_websocket(); any other answer is ordinary HTTP,
    // after which the connection closes (the client's handshake has failed).
    bool websocket_upgrade = false;
};

struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond the standard ones
};

// One request's way back to its client. Exactly one of respond(), start_stream() and
// start_websocket() takes effect; later calls are ignored, and so is everything once the client has
// gone, so a late JobService callback may answer an exchange whose connection was closed.
class Exchange {
  public:
    virtual ~Exchange() = default;

    virtual void respond(Response response) = 0;

    // Starts a 200 response with chunked transfer encoding. on_client_gone is called at most once,
    // if the connection closes (client gone, write failed, server stopping) before end_stream().
    // Returns false, without calling on_client_gone, if the connection is already closed. headers:
    // beyond the standard ones, as Response::headers.
    virtual bool start_stream(std::string content_type, std::function<void()> on_client_gone,
                              std::vector<std::pair<std::string, std::string>> headers = {}) = 0;

    // For a request whose websocket_upgrade is set: accepts the upgrade (101) and streams
    // over the WebSocket, each line given to send() as one text message. on_client_gone and
    // the result as for start_stream(); false also when the request is not an upgrade. A
    // handshake that fails after this (a bad Sec-WebSocket-Key) counts as the client gone.
    virtual bool start_websocket(std::function<void()> on_client_gone) = 0;

    // Queues bytes of the streamed body; whatever is queued is written as one chunk. On a
    // WebSocket, `data` is lines, each ending in '\n': one message per line, without it.
    virtual void send(std::string data) = 0;

    // Bytes given to send() and not yet written to the socket.
    virtual std::size_t unwritten_bytes() const = 0;

    // Calls then() once everything given to send() so far has been written to the socket (on
    // a later turn of the loop): a producer that waits for it holds at most one batch in
    // memory however slowly the client reads. Never called if the connection closes first
    // (on_client_gone is). Chunked streams only; ignored on a WebSocket.
    virtual void when_written(std::function<void()> then) = 0;

    // Writes what is queued and the last chunk (on a WebSocket: a close frame with code 1000,
    // normal). Then the connection takes the client's next request if it asked to keep it
    // (HTTP/1.1's default), and closes otherwise or when told `close`.
    enum class AfterStream { keep_if_asked, close };
    virtual void end_stream(AfterStream after = AfterStream::keep_if_asked) = 0;

    // Closes the connection without the last chunk, for a stream that cannot be finished (a
    // read failed after the 200 was sent): the client sees a body cut short, never one that
    // looks complete. on_client_gone is called as for any close. On a WebSocket, as
    // end_stream().
    virtual void abort_stream() = 0;
};

}  // namespace hostline::controller::http
