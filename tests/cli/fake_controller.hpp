// FakeController: a tiny HTTP server on 127.0.0.1 (port 0) that answers the CLI's requests
// with canned bytes and records what it was asked. Serves on its own thread; the methods
// are safe to call from the test thread at any time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostline::cli::testing {

struct RecordedRequest {
    std::string method;
    std::string target;  // path and query
    std::string authorization;
    std::string body;
};

// Raw bytes to write back, in pieces, with a pause before every piece but the first.
struct CannedAnswer {
    std::vector<std::string> pieces;
    std::chrono::milliseconds pause{0};
    bool hold_open = false;  // after the last piece, wait for the client to close
};

// A complete answer with a JSON body.
CannedAnswer json_answer(int status, const nlohmann::json& body);

// The API's error document: {"error": {"code": code, "message": message}}.
CannedAnswer error_answer(int status, const std::string& code, const std::string& message);

// A 200 answer in chunked transfer encoding, one HTTP chunk per element of chunks. With
// complete false the last chunk never comes and the connection just closes (or stays
// open, with hold_open).
CannedAnswer chunked_answer(std::vector<std::string> chunks, bool complete = true,
                            std::chrono::milliseconds pause = std::chrono::milliseconds(0),
                            bool hold_open = false);

// Lines of NDJSON, each document followed by '\n'.
std::string ndjson(const std::vector<nlohmann::json>& documents);

// "http://127.0.0.1:<port>" for a port that was free a moment ago: nothing listens there.
std::string url_nobody_listens_on();

class FakeController {
  public:
    FakeController();
    ~FakeController();
    FakeController(const FakeController&) = delete;
    FakeController& operator=(const FakeController&) = delete;

    // "http://127.0.0.1:<port>"
    std::string url() const;

    // Answers to `method path` (path without the query), in order; the last one repeats.
    // Anything without an answer gets a 404 error document.
    void on(const std::string& method, const std::string& path, std::vector<CannedAnswer> answers);
    void on(const std::string& method, const std::string& path, CannedAnswer answer);

    std::vector<RecordedRequest> requests() const;

    // Waits until a request for path (without the query) has arrived; false on timeout.
    bool wait_for(const std::string& path, std::chrono::milliseconds timeout) const;

    struct Impl;  // public only so that the connection class in the .cpp can reach it

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace hostline::cli::testing
