// The one file in the agent that calls cppzmq (with common/transport/socket_monitor.cpp, which
// catches its own): its exceptions stop here.
#include "agent/controller_link.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "common/log/module_logger.hpp"
#include "common/proto/codec.hpp"
#include "common/transport/socket_monitor.hpp"

static constinit hostline::log::ModuleLogger logger{"transport"};

namespace hostline::agent {
namespace {

constexpr std::size_t kMaxDrain = 1000;

}  // namespace

ControllerLink::ControllerLink(std::string endpoint, std::string server_key,
                               transport::CurveKeyPair keys, std::string agent_name,
                               Handlers handlers)
    : endpoint_(std::move(endpoint)),
      server_key_(std::move(server_key)),
      keys_(std::move(keys)),
      name_(std::move(agent_name)),
      handlers_(std::move(handlers)),
      random_(std::random_device{}() ^ static_cast<unsigned>(::getpid())) {}

ControllerLink::~ControllerLink() {
    close_socket();
}

Result<void> ControllerLink::connect() {
    try {
        open_socket();
    } catch (const zmq::error_t& e) {
        return fail("cannot connect to the controller at " + endpoint_ + ": " + e.what());
    }
    return {};
}

void ControllerLink::open_socket() {
    ++generation_;
    socket_ = zmq::socket_t(context_, zmq::socket_type::dealer);
    // No routing id of our own: the controller's ROUTER gives each connection one, so no
    // other agent can take this one's connection over by claiming the same id.
    socket_.set(zmq::sockopt::curve_serverkey, server_key_);
    socket_.set(zmq::sockopt::curve_publickey, keys_.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys_.secret_key);
    socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxMessageBytes));
    socket_.set(zmq::sockopt::immediate, 1);  // no queueing to a dead link: we resend ourselves
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 10000);
    std::uniform_int_distribution<int> jitter(100, 300);
    socket_.set(zmq::sockopt::reconnect_ivl, jitter(random_));
    socket_.set(zmq::sockopt::reconnect_ivl_max, 10000);
    // No ZMTP heartbeats (ZMQ_HEARTBEAT_IVL): the agent's own heartbeat finds a dead link
    // already (no word for three intervals: the link is rebuilt, agent.cpp), and pings on a
    // timer of their own woke ZeroMQ's I/O thread twice more per interval in an idle agent
    // (docs/performance.md, "Output and agent footprint").

    std::string monitor_endpoint =
        "inproc://monitor-" + std::to_string(::getpid()) + "-" + std::to_string(generation_);
    socket_.set(zmq::sockopt::handshake_ivl, 10000);
    if (zmq_socket_monitor(socket_.handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0)
        throw zmq::error_t();
    monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
    monitor_.connect(monitor_endpoint);
    socket_.connect(endpoint_);
    connected_ = false;
}

void ControllerLink::close_socket() {
    if (socket_) {
        zmq_socket_monitor(socket_.handle(), nullptr, 0);
        socket_.close();
    }
    if (monitor_) monitor_.close();
    connected_ = false;
}

void ControllerLink::reset(Clock::time_point now) {
    close_socket();
    ++failures_;
    int ceiling = std::min(30000, 500 << std::min(failures_, 6));
    std::uniform_int_distribution<int> delay(ceiling / 2, ceiling);
    reconnect_at_ = now + std::chrono::milliseconds(delay(random_));
    logger->info(
        "link to the controller reset; reconnecting in {} ms",
        std::chrono::duration_cast<std::chrono::milliseconds>(*reconnect_at_ - now).count());
}

void ControllerLink::pause(Clock::time_point now, std::chrono::milliseconds delay) {
    close_socket();
    reconnect_at_ = now + delay;
}

std::chrono::milliseconds ControllerLink::hang_up(Clock::time_point now) {
    std::uniform_int_distribution<int> spread(100, 300);
    const std::chrono::milliseconds delay{spread(random_)};
    pause(now, delay);
    return delay;
}

bool ControllerLink::send(const proto::Message& message) {
    return send_frame(proto::encode(message));
}

bool ControllerLink::send_frame(std::string_view frame) {
    if (!socket_) return false;
    try {
        return socket_.send(zmq::message_t(frame.data(), frame.size()), zmq::send_flags::dontwait)
            .has_value();
    } catch (const zmq::error_t& e) {
        logger->debug("send to the controller failed: {}", e.what());
        return false;
    }
}

void ControllerLink::add_poll_items(std::vector<zmq::pollitem_t>& items) {
    if (!socket_) {
        items.push_back({nullptr, -1, 0, 0});
        items.push_back({nullptr, -1, 0, 0});
        return;
    }
    items.push_back({socket_.handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({monitor_.handle(), 0, ZMQ_POLLIN, 0});
}

void ControllerLink::on_poll(const zmq::pollitem_t* items, Clock::time_point now) {
    if (reconnect_at_ && now >= *reconnect_at_) {
        reconnect_at_.reset();
        try {
            open_socket();
        } catch (const zmq::error_t& e) {
            logger->error("cannot reconnect to {}: {}", endpoint_, e.what());
            reset(now);
        }
        return;
    }
    if (!socket_) return;
    if (items[1].revents & ZMQ_POLLIN) drain_monitor();
    if (items[0].revents & ZMQ_POLLIN) drain_socket();
}

void ControllerLink::drain_monitor() {
    while (auto event = transport::next_socket_event(monitor_)) {
        const std::int32_t value = event->value;
        switch (event->id) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                connected_ = true;
                failures_ = 0;
                logger->info("connected to the controller at {} as {}", endpoint_, name_);
                handlers_.on_connected();
                break;
            case ZMQ_EVENT_DISCONNECTED:
                if (connected_) {
                    logger->warn("disconnected from the controller; reconnecting");
                    connected_ = false;
                    if (handlers_.on_disconnected) handlers_.on_disconnected();
                }
                break;
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                connected_ = false;
                logger->error(
                    "the controller refused this agent's key (status {}): it must be accepted "
                    "on the controller (public key {}); retrying",
                    value, keys_.public_key);
                // ZeroMQ gives up after a refusal; keep asking, so accepting the key later works.
                reset(Clock::now());
                return;
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                connected_ = false;
                logger->error("handshake with {} failed (wrong controller public key?)", endpoint_);
                break;
            default:
                break;
        }
    }
}

void ControllerLink::drain_socket() {
    // A handler may close the socket (reset(), pause()): stop reading then.
    for (std::size_t n = 0; n < kMaxDrain && socket_; ++n) {
        zmq::message_t body;
        try {
            if (!socket_.recv(body, zmq::recv_flags::dontwait)) return;
        } catch (const zmq::error_t& e) {
            logger->warn("receive from the controller failed: {}", e.what());
            return;
        }
        const std::string_view frame(body.data<char>(), body.size());
        auto decoded = proto::decode(frame);
        if (!decoded && std::string_view(proto::error_code_for(decoded.error())) == "version") {
            // The controller speaks another version: as if it had refused ours.
            const auto version = proto::declared_version(frame).value_or(0);
            handlers_.on_message(proto::ErrorReply{
                "version", decoded.error().message,
                static_cast<std::uint32_t>(std::min<std::uint64_t>(version, UINT32_MAX))});
            continue;
        }
        if (!decoded) {
            logger->warn("dropped a message from the controller: {}", decoded.error().message);
            continue;
        }
        handlers_.on_message(std::move(*decoded));
    }
}

}  // namespace hostline::agent
