// The agent's link to the controller: a DEALER socket (CURVE client; the
// controller tells agents apart by their keys) that connects out, and a monitor that tells when a
// handshake succeeds or is refused.
//
// ZeroMQ reconnects by itself with exponential backoff; the initial interval is jittered per
// process so a restarted controller is not hit by every agent in the same millisecond. When
// the controller stays silent for too long the link is torn down and rebuilt after a jittered
// backoff (reset()). Single-threaded: owned by the agent's poll loop.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/error.hpp"
#include "common/proto/messages.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {

class ControllerLink {
  public:
    using Clock = std::chrono::steady_clock;
    struct Handlers {
        std::function<void()> on_connected;  // a CURVE handshake succeeded: say hello
        // Every message from the controller. A frame of another protocol version arrives as
        // error{version} with `speaks` set to the controller's version.
        std::function<void(proto::Message)> on_message;
        std::function<void()> on_disconnected;  // optional: a connection that was up is lost
    };

    ControllerLink(std::string endpoint, std::string server_key, transport::CurveKeyPair keys,
                   std::string agent_name, Handlers handlers);
    ~ControllerLink();

    Result<void> connect();
    // Drops the connection and connects again after a jittered, growing delay.
    void reset(Clock::time_point now);
    // Drops the connection and connects again after exactly delay: for a controller that
    // cannot take this agent now (another protocol version) but may be upgraded meanwhile.
    void pause(Clock::time_point now, std::chrono::milliseconds delay);
    // The controller said bye: hangs up (so the bye is read before the link drops: ZeroMQ
    // discards what was not read when it does) and connects again after 100-300 ms, the
    // jitter of the first reconnect; ZeroMQ's backoff takes over while nobody answers.
    // Returns the delay.
    std::chrono::milliseconds hang_up(Clock::time_point now);
    // False if the message could not be queued (not connected, or queue full).
    bool send(const proto::Message& message);
    bool send_frame(std::string_view frame);  // an already encoded message
    bool connected() const { return connected_; }

    void add_poll_items(std::vector<zmq::pollitem_t>& items);
    // Handles the items added by add_poll_items (same order), and a due reconnect.
    void on_poll(const zmq::pollitem_t* items, Clock::time_point now);
    std::optional<Clock::time_point> next_deadline() const { return reconnect_at_; }

  private:
    void open_socket();
    void close_socket();
    void drain_socket();
    void drain_monitor();

    const std::string endpoint_;
    const std::string server_key_;
    const transport::CurveKeyPair keys_;
    const std::string name_;
    Handlers handlers_;

    zmq::context_t context_{1};
    zmq::socket_t socket_;
    zmq::socket_t monitor_;
    int generation_ = 0;  // names each socket's monitor endpoint
    bool connected_ = false;
    int failures_ = 0;
    std::optional<Clock::time_point> reconnect_at_;
    std::mt19937 random_;
};

}  // namespace hostline::agent
