#include "raw_agent.hpp"

#include <zmq.hpp>

#include "common/proto/codec.hpp"

namespace hostline::testing {

using namespace std::chrono_literals;

RawAgent::RawAgent(std::string endpoint, std::string server_public_key,
                   transport::CurveKeyPair keys)
    : endpoint_(std::move(endpoint)),
      server_public_key_(std::move(server_public_key)),
      keys_(std::move(keys)),
      thread_([this] { run(); }) {}

RawAgent::~RawAgent() {
    stopping_ = true;
    thread_.join();
}

void RawAgent::send_frame(std::string frame) {
    std::lock_guard lock(mutex_);
    outbox_.push_back(std::move(frame));
    ++queued_;
}

void RawAgent::send(const proto::Message& message) {
    send_frame(proto::encode(message));
}

bool RawAgent::wait_sent(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return sent_ == queued_; });
}

bool RawAgent::hello(const std::string& name, std::chrono::milliseconds timeout) {
    proto::Hello hello;
    hello.agent_id = name;
    hello.hostname = name + ".test";
    hello.version = "0.0.0-raw";
    hello.capacity = 4;
    send(hello);
    if (!take<proto::Welcome>(timeout)) return false;
    keep_alive_ = true;
    return true;
}

std::optional<proto::Message> RawAgent::take(const std::function<bool(const proto::Message&)>& pred,
                                             std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<proto::Message> found;
    changed_.wait_for(lock, timeout, [&] {
        for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
            if (!pred(*it)) continue;
            found = std::move(*it);
            inbox_.erase(it);
            return true;
        }
        return false;
    });
    return found;
}

std::vector<proto::Message> RawAgent::received() {
    std::lock_guard lock(mutex_);
    return inbox_;
}

void RawAgent::run() {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::curve_serverkey, server_public_key_);
    socket.set(zmq::sockopt::curve_publickey, keys_.public_key);
    socket.set(zmq::sockopt::curve_secretkey, keys_.secret_key);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::sndtimeo, 200);
    socket.connect(endpoint_);

    auto receive_all = [&] {
        zmq::message_t frame;
        std::vector<proto::Message> got;
        while (socket.recv(frame, zmq::recv_flags::dontwait)) {
            auto decoded = proto::decode(std::string_view(frame.data<char>(), frame.size()));
            if (decoded)
                got.push_back(std::move(*decoded));
            else
                ++undecodable_;
        }
        if (got.empty()) return;
        std::lock_guard lock(mutex_);
        for (auto& m : got) inbox_.push_back(std::move(m));
        changed_.notify_all();
    };

    auto last_heartbeat = std::chrono::steady_clock::now();
    while (!stopping_) {
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, 5ms);
        receive_all();
        if (keep_alive_ && std::chrono::steady_clock::now() - last_heartbeat > 250ms) {
            send_frame(proto::encode(proto::Heartbeat{0}));
            last_heartbeat = std::chrono::steady_clock::now();
        }
        for (std::size_t n = 0; !stopping_; ++n) {
            std::string frame;
            {
                std::lock_guard lock(mutex_);
                if (outbox_.empty()) break;
                frame = std::move(outbox_.front());
                outbox_.pop_front();
            }
            // Blocks (200 ms at a time) while the controller does not take more; what it
            // sends back meanwhile is read every so often so that its replies do not stall.
            while (!stopping_ && !socket.send(zmq::buffer(frame), zmq::send_flags::none))
                receive_all();
            {
                std::lock_guard lock(mutex_);
                ++sent_;
                changed_.notify_all();
            }
            if (n % 64 == 63) receive_all();
        }
    }
}

}  // namespace hostline::testing
