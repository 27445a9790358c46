// An agent connection the test drives by hand: a ZeroMQ DEALER with CURVE, as the real agent
// opens it, that sends whatever frames the test gives it (well-formed or not) and keeps
// everything it receives. For tests of what the controller does with a hostile peer.
//
// Threads: the socket lives on a thread of its own (a ZeroMQ socket never leaves its thread),
// which also sends a heartbeat every 250 ms while keep_alive is on, so the controller keeps
// the connection online while the test thread waits on the CLI. Every public method may be
// called from the test thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/proto/messages.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::testing {

class RawAgent {
  public:
    // Connects to endpoint as the holder of keys, the CURVE client of server_public_key.
    RawAgent(std::string endpoint, std::string server_public_key, transport::CurveKeyPair keys);
    ~RawAgent();
    RawAgent(const RawAgent&) = delete;
    RawAgent& operator=(const RawAgent&) = delete;

    // Queues a frame as it is; the socket thread sends in order, blocking while ZeroMQ's
    // send queue is full (as fast as the controller takes them).
    void send_frame(std::string frame);
    void send(const proto::Message& message);
    // Waits until every frame queued so far has been handed to ZeroMQ.
    bool wait_sent(std::chrono::milliseconds timeout);

    // Says hello as `name` and waits for the welcome; then keeps the connection alive.
    bool hello(const std::string& name,
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
    void keep_alive(bool on) { keep_alive_ = on; }

    // The first message received and not yet taken that pred accepts, taken; or nothing
    // within the timeout.
    std::optional<proto::Message> take(const std::function<bool(const proto::Message&)>& pred,
                                       std::chrono::milliseconds timeout);
    template <typename T>
    std::optional<T> take(std::chrono::milliseconds timeout,
                          const std::function<bool(const T&)>& pred = nullptr) {
        auto found = take(
            [&](const proto::Message& m) {
                const T* typed = std::get_if<T>(&m);
                return typed != nullptr && (!pred || pred(*typed));
            },
            timeout);
        if (!found) return std::nullopt;
        return std::get<T>(std::move(*found));
    }
    // Every message received so far and not taken (a copy).
    std::vector<proto::Message> received();
    // Frames the controller sent that did not decode.
    int undecodable() const { return undecodable_; }

  private:
    void run();

    // Constant after construction.
    const std::string endpoint_;
    const std::string server_public_key_;
    const transport::CurveKeyPair keys_;

    std::atomic<bool> stopping_{false};
    std::atomic<bool> keep_alive_{false};
    std::atomic<int> undecodable_{0};

    // Guarded by mutex_.
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::string> outbox_;
    std::size_t queued_ = 0, sent_ = 0;
    std::vector<proto::Message> inbox_;

    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace hostline::testing
