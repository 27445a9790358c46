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
};

struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond the standard ones
};

// One request's way back to its client. Exactly one of respond() and start_stream() takes
// effect; later calls are ignored, and so is everything once the client has gone, so a
// late JobService callback may answer an exchange whose connection was closed.
class Exchange {
  public:
    virtual ~Exchange() = default;

    virtual void respond(Response response) = 0;

    // Starts a 200 response with chunked transfer encoding; the connection closes after
    // it. on_client_gone is called at most once, if the connection closes (client gone,
    // write failed, server stopping) before end_stream(). Returns false, without calling
    // on_client_gone, if the connection is already closed.
    virtual bool start_stream(std::string content_type, std::function<void()> on_client_gone) = 0;

    // Queues bytes of the streamed body; whatever is queued is written as one chunk.
    virtual void send(std::string data) = 0;

    // Bytes given to send() and not yet written to the socket.
    virtual std::size_t unwritten_bytes() const = 0;

    // Writes what is queued and the last chunk, then closes the connection.
    virtual void end_stream() = 0;
};

}  // namespace hostline::controller::http
