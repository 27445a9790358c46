// Runs a test's io_context on the test thread until something has happened.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace hostline::chat::net::testing {

// Runs `io` until `done()` holds or `limit` passes; returns done().
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(std::chrono::milliseconds(10));
    }
    return done();
}

// Runs `io` for exactly `span` (to show that nothing happens meanwhile).
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds span) {
    run_until(
        io, [] { return false; }, span);
}

}  // namespace hostline::chat::net::testing
