#include "bench/echo_router.hpp"

#include <zmq.h>

#include <stdexcept>
#include <unordered_set>

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail_with(const std::string& what) {
    throw std::runtime_error("bare ROUTER: " + what + ": " + zmq_strerror(zmq_errno()));
}

int millis_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

EchoRouter::EchoRouter() {
    auto keys = transport::generate_key_pair();
    if (!keys) throw std::runtime_error(keys.error().message);
    keys_ = *keys;
    context_ = zmq_ctx_new();
    socket_ = zmq_socket(context_, ZMQ_ROUTER);
    if (!socket_) fail_with("zmq_socket");
    const int one = 1, zero = 0;
    zmq_setsockopt(socket_, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(socket_, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(socket_, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(socket_, ZMQ_CURVE_SECRETKEY, keys_.secret_key.data(), keys_.secret_key.size());
    if (zmq_bind(socket_, "tcp://127.0.0.1:*") != 0) fail_with("bind");
    char endpoint[256];
    std::size_t size = sizeof endpoint;
    zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, endpoint, &size);
    endpoint_ = endpoint;
}

EchoRouter::~EchoRouter() {
    if (socket_) zmq_close(socket_);
    if (context_) zmq_ctx_term(context_);
}

void EchoRouter::wait_ready(std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::unordered_set<std::string> seen(identities_.begin(), identities_.end());
    char buffer[256];
    while (identities_.size() < count) {
        zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, millis_until(deadline)) <= 0)
            throw std::runtime_error("bare ROUTER: " + std::to_string(identities_.size()) + " of " +
                                     std::to_string(count) + " identities ready");
        int size = zmq_recv(socket_, buffer, sizeof buffer, ZMQ_DONTWAIT);
        if (size < 0) continue;
        std::string id(buffer, static_cast<std::size_t>(std::min<int>(size, sizeof buffer)));
        zmq_recv(socket_, buffer, sizeof buffer, 0);  // "ready"
        if (seen.insert(id).second) identities_.push_back(id);
    }
}

double EchoRouter::round(std::chrono::milliseconds timeout) {
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    for (const std::string& id : identities_) {
        if (zmq_send(socket_, id.data(), id.size(), ZMQ_SNDMORE) < 0 ||
            zmq_send(socket_, "ping", 4, 0) < 0)
            fail_with("send to " + id);
    }
    char buffer[256];
    for (std::size_t replies = 0; replies < identities_.size();) {
        if (zmq_recv(socket_, buffer, sizeof buffer, ZMQ_DONTWAIT) < 0) {
            zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&item, 1, millis_until(deadline)) <= 0)
                throw std::runtime_error("bare ROUTER: " + std::to_string(replies) + " of " +
                                         std::to_string(identities_.size()) + " replies");
            continue;
        }
        zmq_recv(socket_, buffer, sizeof buffer, 0);  // "ping", echoed
        ++replies;
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace hostline::bench
