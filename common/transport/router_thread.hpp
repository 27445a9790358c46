// The controller's side of the agent link: a thread that owns the ZeroMQ ROUTER socket
// (CURVE server) and its ZAP handler, decodes what arrives and hands it on, and sends what
// others queue.
//
// Threads: the ROUTER and ZAP sockets live on the thread start() creates and never leave it
// (a ZeroMQ socket belongs to one thread). send() may be called from any thread: it queues
// and wakes the transport thread through an eventfd. Inbound callbacks run on the transport
// thread and must only hand the message on (e.g. asio::post); they must not block.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <zmq.hpp>

#include "common/error.hpp"
#include "common/proto/messages.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::transport {

// Decides at the CURVE handshake who an agent is. Called on the transport thread.
class KeyAuthority {
  public:
    virtual ~KeyAuthority() = default;
    // The agent name this public key is accepted as, or an empty optional to refuse.
    virtual std::optional<std::string> agent_for_key(const std::string& public_key) = 0;
};

class RouterThread {
  public:
    struct Handlers {
        // A decoded message from an authenticated agent.
        std::function<void(const std::string& agent, proto::Message message)> on_message;
    };

    RouterThread(std::string endpoint, CurveKeyPair server_keys, KeyAuthority& authority);
    ~RouterThread();  // stop()s

    // Binds (port 0 or "*" picks a free port; see endpoint()) and starts the thread.
    Result<void> start(Handlers handlers);
    void stop();

    // The endpoint actually bound, e.g. "tcp://127.0.0.1:41234".
    const std::string& endpoint() const { return bound_endpoint_; }

    // Queues a message for an agent; dropped (and logged at debug) if it is not connected.
    void send(std::string agent, proto::Message message);
    // Same, with an already encoded message (for one encode sent to many).
    void send_encoded(std::string agent, std::string frame);

  private:
    void run();
    void drain_router();
    void drain_outbox();
    void answer_zap();

    // Constant after construction.
    const std::string endpoint_;
    const CurveKeyPair keys_;
    KeyAuthority& authority_;

    // Owned by the transport thread after start().
    zmq::context_t context_;
    zmq::socket_t router_;
    zmq::socket_t zap_;
    Handlers handlers_;
    std::string bound_endpoint_;
    std::thread thread_;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};

    // Guarded by outbox_mutex_.
    std::mutex outbox_mutex_;
    std::deque<std::pair<std::string, std::string>> outbox_;
};

}  // namespace hostline::transport
