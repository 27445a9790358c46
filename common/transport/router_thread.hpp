// The controller's side of the agent link: a thread that owns the ZeroMQ ROUTER socket
// (CURVE server) and its ZAP handler, decodes what arrives and hands it on, and sends what
// others queue.
//
// Threads: the ROUTER and ZAP sockets live on the thread start() creates and never leave it
// (a ZeroMQ socket belongs to one thread). send() may be called from any thread: it queues
// and wakes the transport thread through an eventfd. Inbound callbacks run on the transport
// thread and must only hand the message on (e.g. asio::post); they must not block.
//
// A peer cannot make it use memory or log lines without bound: what it hands on is limited
// by an InboundBudget (past it, the thread stops reading the socket and ZeroMQ pushes back on
// the agents), and warnings about a peer's bad messages by a LogThrottle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <zmq.hpp>

#include "common/error.hpp"
#include "common/log/log_throttle.hpp"
#include "common/proto/messages.hpp"
#include "common/transport/curve_keys.hpp"
#include "common/transport/inbound_budget.hpp"

namespace hostline::transport {

// What the controller knows of an agent's CURVE public key.
struct KeyStatus {
    enum class State { accepted, unknown, revoked };
    State state = State::unknown;
    std::string agent;  // the name an accepted key was accepted as
};

// Decides who an agent is: at the CURVE handshake (revoked keys are refused there; accepted
// and unknown keys are admitted) and again for every message, so that accepting or revoking a
// key takes effect on a live connection at once. Called on the transport thread, and possibly
// on others by the implementation's owner: implementations must be thread-safe and fast.
class KeyAuthority {
  public:
    virtual ~KeyAuthority() = default;
    virtual KeyStatus status_of(const std::string& public_key) = 0;
};

// A connection whose key is not accepted (yet): what the controller may answer to.
struct Stranger {
    std::string connection;  // the ROUTER's routing id of the connection (opaque bytes)
    std::string public_key;  // Z85
};

// A callback for inbound messages, called on the transport thread with the message's
// arguments and, if it takes one, an InboundTicket after them.
template <typename F, typename... Args>
concept InboundCallback =
    std::is_invocable_v<F&, Args..., InboundTicket> || std::is_invocable_v<F&, Args...>;

// Holds an InboundCallback. One that takes the ticket finishes the message when it drops the
// ticket: capture it in what is posted to the thread that handles the message, so that the
// transport stops reading while that thread is behind. One that takes no ticket has finished
// the message when it returns.
template <typename... Args>
class InboundHandler {
  public:
    InboundHandler() = default;

    template <InboundCallback<Args...> F>
    InboundHandler(F f) {
        if constexpr (std::is_invocable_v<F&, Args..., InboundTicket>)
            call_ = std::move(f);
        else
            call_ = [f = std::move(f)](Args... args, InboundTicket) mutable {
                f(std::forward<Args>(args)...);
            };
    }

    void operator()(Args... args, InboundTicket ticket) const {
        call_(std::forward<Args>(args)..., std::move(ticket));
    }

  private:
    std::function<void(Args..., InboundTicket)> call_;
};

struct RouterOptions {
    // Messages handed on and not finished (see InboundHandler) beyond which the transport
    // stops reading agents until the consumer has caught up.
    InboundBudget::Limits inbound;
    // How often one peer's bad messages are logged; the rest are counted in a summary line.
    log::LogThrottle::Options warnings;
};

class RouterThread {
  public:
    struct Handlers {
        // A decoded message from an agent whose key is accepted, by the name it was accepted
        // as; public_key lets the receiver check the key is still accepted when it handles it.
        InboundHandler<const std::string& /*agent*/, const std::string& /*public_key*/,
                       proto::Message>
            on_message;
        // A hello or enroll from a connection whose key is unknown. Every other message from
        // such a connection is answered error{not_accepted} here and never handed on.
        InboundHandler<const Stranger& /*from*/, proto::Message> on_stranger;
        // Optional: answers a heartbeat from an accepted agent on the transport thread. The
        // reply to send, or nothing to hand the heartbeat on to on_message like any message.
        // Spares a heartbeat the trips to the consumer's thread and back (at fleet scale,
        // most of the controller's idle CPU). Must not block.
        std::function<std::optional<std::string>(const std::string& /*agent*/)> on_heartbeat;
    };

    RouterThread(std::string endpoint, CurveKeyPair server_keys, KeyAuthority& authority,
                 RouterOptions options = {});
    ~RouterThread();  // stop()s

    // How long stop() waits, after sending what was queued (the byes), for the agents to
    // hang up: an agent reads its bye before it sees the connection close only if it hangs
    // up first (ZeroMQ drops what an agent had not read when its link drops).
    static constexpr std::chrono::milliseconds kGoodbyeGrace{1000};

    // Binds (port 0 or "*" picks a free port; see endpoint()) and starts the thread.
    Result<void> start(Handlers handlers);
    void stop();

    // The endpoint actually bound, e.g. "tcp://127.0.0.1:41234".
    const std::string& endpoint() const { return bound_endpoint_; }

    // Whether it leaves the agents' messages unread now, its inbound budget spent (they wait
    // in ZeroMQ). Any thread.
    bool reading_paused() const { return reading_paused_.load(std::memory_order_relaxed); }

    // Queues a message for an agent; dropped (and logged at debug) if it is not connected.
    void send(std::string agent, proto::Message message);
    // Same, with an already encoded message (for one encode sent to many).
    void send_encoded(std::string agent, std::string frame);
    // Answers a connection that is not (or not yet) an accepted agent.
    void reply(const Stranger& to, proto::Message message);

  private:
    void run();
    void drain_router();
    void drain_outbox();
    // Sends a frame on the ROUTER now (the transport thread): to an agent's connection.
    void send_now(std::string_view connection, std::string_view frame, std::string_view to);
    void answer_zap();
    void drain_monitor();
    // Waits up to kGoodbyeGrace for the agents' connections open now to close.
    void wait_for_hangups();
    void enqueue(std::string destination, bool is_connection, std::string frame);
    // Logs a bad message from `peer` ("agent web-01", "key ..."), unless it has said too much.
    void warn_dropped(const std::string& peer, const std::string& why);
    // Logs, once per agent and 10 minutes, that a peer speaks another protocol version.
    void warn_other_version(const std::string& agent, const std::string& key,
                            std::optional<std::uint64_t> version);
    void log_warning_summaries();
    std::optional<log::LogThrottle::Clock::time_point> next_summary() const;

    // Constant after construction.
    const std::string endpoint_;
    const CurveKeyPair keys_;
    KeyAuthority& authority_;
    const RouterOptions options_;

    // Owned by the transport thread after start().
    zmq::context_t context_;
    zmq::socket_t router_;
    zmq::socket_t zap_;
    zmq::socket_t monitor_;            // the ROUTER's connections opening and closing
    std::set<int> open_connections_;   // by file descriptor, as the monitor names them
    std::set<int> agent_connections_;  // those an accepted agent's message came on
    Handlers handlers_;
    std::string bound_endpoint_;
    // Agents do not choose their routing id (the ROUTER makes one per connection, so nobody
    // can take over another's connection); an accepted agent is reached through the
    // connection its key last spoke on.
    std::unordered_map<std::string, std::string> connection_of_agent_;  // every message: hashed
    std::shared_ptr<InboundBudget> budget_;  // shared with the tickets out
    log::LogThrottle warnings_;
    log::LogThrottle pauses_;
    log::LogThrottle versions_;
    std::thread thread_;
    int wake_fd_ = -1;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> reading_paused_{false};

    // Guarded by outbox_mutex_.
    std::mutex outbox_mutex_;
    struct Outgoing {
        std::string destination;  // an agent name, or a connection's routing id
        bool is_connection = false;
        std::string frame;
    };
    std::deque<Outgoing> outbox_;
};

}  // namespace hostline::transport
