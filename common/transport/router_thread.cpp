// The one file on the controller side that calls cppzmq (with socket_monitor.cpp, which
// catches its own): its exceptions stop here.
#include "common/transport/router_thread.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>

#include "common/log/module_logger.hpp"
#include "common/proto/codec.hpp"
#include "common/transport/socket_monitor.hpp"

static constinit hostline::log::ModuleLogger logger{"transport"};

namespace hostline::transport {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kMonitorEndpoint = "inproc://hostline.router.monitor";
constexpr std::size_t kMaxDrain = 1000;  // messages per wake-up before polling again

std::string to_string(const zmq::message_t& m) {
    return std::string(m.data<char>(), m.size());
}

using Clock = log::LogThrottle::Clock;

// A peer that floods the transport pauses it often; one line a minute says so.
constexpr log::LogThrottle::Options kPauseWarnings{
    .burst = 1, .interval = std::chrono::minutes(1), .max_keys = 1};
// An agent of another protocol version retries about once a minute until someone installs
// the right package: one line per agent says so, then one summary every 10 minutes.
constexpr log::LogThrottle::Options kVersionWarnings{
    .burst = 1, .interval = std::chrono::minutes(10), .max_keys = 1024};

long long seconds(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

std::string printable(std::string_view id) {
    std::string out;
    for (char c : id.substr(0, 64)) out += (c >= 32 && c < 127) ? c : '?';
    return out;
}

}  // namespace

RouterThread::RouterThread(std::string endpoint, CurveKeyPair server_keys, KeyAuthority& authority,
                           RouterOptions options)
    : endpoint_(std::move(endpoint)),
      keys_(std::move(server_keys)),
      authority_(authority),
      options_(options),
      warnings_(options.warnings),
      pauses_(kPauseWarnings),
      versions_(kVersionWarnings) {}

RouterThread::~RouterThread() {
    stop();
}

Result<void> RouterThread::start(Handlers handlers) {
    handlers_ = std::move(handlers);
    try {
        // The ZAP handler must be bound before any CURVE socket binds.
        zap_ = zmq::socket_t(context_, zmq::socket_type::rep);
        zap_.bind(kZapEndpoint);

        router_ = zmq::socket_t(context_, zmq::socket_type::router);
        router_.set(zmq::sockopt::router_mandatory, 1);
        // No ROUTER_HANDOVER: routing ids are the ROUTER's own, one per connection, so no
        // peer can take over another's connection by claiming its id.
        router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(proto::kMaxMessageBytes));
        router_.set(zmq::sockopt::sndhwm, 10000);
        // Per connection: what ZeroMQ holds for us while the inbound budget is spent, before
        // it stops reading that agent's TCP.
        router_.set(zmq::sockopt::rcvhwm, 1000);
        router_.set(zmq::sockopt::linger, 0);
        router_.set(zmq::sockopt::curve_server, 1);
        router_.set(zmq::sockopt::curve_secretkey, keys_.secret_key);
        router_.set(zmq::sockopt::zap_domain, "hostline");
        router_.set(zmq::sockopt::handshake_ivl, 10000);
        if (zmq_socket_monitor(router_.handle(), kMonitorEndpoint,
                               ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
            throw zmq::error_t();
        monitor_ = zmq::socket_t(context_, zmq::socket_type::pair);
        monitor_.connect(kMonitorEndpoint);
        router_.bind(endpoint_);
        bound_endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& e) {
        return fail("cannot listen for agents on " + endpoint_ + ": " + e.what());
    }
    auto budget = InboundBudget::create(options_.inbound);
    if (!budget) return budget.error();
    budget_ = std::move(*budget);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return fail("eventfd failed");
    thread_ = std::thread([this] { run(); });
    return {};
}

void RouterThread::stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
    wake_fd_ = -1;
}

void RouterThread::send(std::string agent, proto::Message message) {
    send_encoded(std::move(agent), proto::encode(message));
}

void RouterThread::send_encoded(std::string agent, std::string frame) {
    enqueue(std::move(agent), false, std::move(frame));
}

void RouterThread::reply(const Stranger& to, proto::Message message) {
    enqueue(to.connection, true, proto::encode(message));
}

void RouterThread::enqueue(std::string destination, bool is_connection, std::string frame) {
    bool was_empty;
    {
        std::lock_guard lock(outbox_mutex_);
        was_empty = outbox_.empty();
        outbox_.push_back({std::move(destination), is_connection, std::move(frame)});
    }
    // Only the first message of a batch wakes the thread: it takes the whole outbox at once,
    // so what is queued before it does goes with it (a job to 10,000 agents: one write, not
    // 10,000).
    if (was_empty) {
        std::uint64_t one = 1;
        (void)::write(wake_fd_, &one, sizeof one);
    }
}

void RouterThread::run() {
    pthread_setname_np(pthread_self(), "agent-link");  // as top -H and perf show it
    zmq::pollitem_t items[] = {
        {router_.handle(), 0, ZMQ_POLLIN, 0},  {zap_.handle(), 0, ZMQ_POLLIN, 0},
        {nullptr, wake_fd_, ZMQ_POLLIN, 0},    {nullptr, budget_->resume_fd(), ZMQ_POLLIN, 0},
        {monitor_.handle(), 0, ZMQ_POLLIN, 0},
    };
    bool paused = false;
    while (!stopping_) {
        // While the budget is spent the ROUTER is left out of the poll: its messages wait in
        // ZeroMQ, and a dropped ticket's ring on the resume fd wakes us.
        const bool open = budget_->open();
        if (!open && !paused && pauses_.admit("agent transport", Clock::now()))
            logger->warn(
                "agent transport: {} messages wait to be handled; not reading agents until "
                "half of them are",
                budget_->outstanding_messages());
        if (open && paused) logger->debug("agent transport: reading agents again");
        paused = !open;
        reading_paused_.store(paused, std::memory_order_relaxed);
        items[0].events = open ? ZMQ_POLLIN : 0;
        auto timeout = std::chrono::milliseconds(-1);
        if (auto due = next_summary()) {
            timeout = std::chrono::ceil<std::chrono::milliseconds>(*due - Clock::now());
            if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
        }
        try {
            zmq::poll(items, std::size(items), timeout);
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            logger->critical("agent transport: poll failed: {}", e.what());
            std::abort();
        }
        if (items[1].revents & ZMQ_POLLIN) answer_zap();
        if (items[2].revents & ZMQ_POLLIN) {
            std::uint64_t count;
            (void)::read(wake_fd_, &count, sizeof count);
        }
        if (items[3].revents & ZMQ_POLLIN) budget_->drain_resume_fd();
        if (items[4].revents & ZMQ_POLLIN) drain_monitor();
        drain_outbox();
        drain_router();
        log_warning_summaries();
    }
    drain_outbox();  // what was queued before stop(), e.g. the byes
    wait_for_hangups();
    router_.set(zmq::sockopt::linger, 500);
    zmq_socket_monitor(router_.handle(), nullptr, 0);
    router_.close();
    monitor_.close();
    zap_.close();
}

void RouterThread::drain_monitor() {
    while (auto event = next_socket_event(monitor_)) {
        // The value of both is the connection's file descriptor.
        if (event->id == ZMQ_EVENT_ACCEPTED) open_connections_.insert(event->value);
        if (event->id == ZMQ_EVENT_DISCONNECTED) {
            open_connections_.erase(event->value);
            agent_connections_.erase(event->value);
        }
    }
}

void RouterThread::wait_for_hangups() {
    // Only the connections open now that an accepted agent spoke on, each told bye: one that
    // opens meanwhile is not waited for (its handshake waits for a ZAP answer that does not
    // come), nor one of a key waiting to be accepted or of another protocol version, which
    // gets no bye and would keep its connection for the whole grace.
    drain_monitor();
    std::set<int> told;
    std::ranges::set_intersection(open_connections_, agent_connections_,
                                  std::inserter(told, told.end()));
    auto still_open = [&] {
        return std::ranges::count_if(told, [&](int fd) { return open_connections_.contains(fd); });
    };
    const auto deadline = Clock::now() + kGoodbyeGrace;
    while (still_open() > 0) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        zmq::pollitem_t item{monitor_.handle(), 0, ZMQ_POLLIN, 0};
        try {
            zmq::poll(&item, 1, left);
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) break;
        }
        drain_monitor();
    }
    if (const auto left = still_open(); left > 0)
        logger->info(
            "agent transport: {} of {} agents still connected {} ms after the bye; "
            "closing their connections",
            left, told.size(), kGoodbyeGrace.count());
}

void RouterThread::drain_router() {
    for (std::size_t n = 0; n < kMaxDrain && budget_->open(); ++n) {
        zmq::message_t id, body;
        try {
            if (!router_.recv(id, zmq::recv_flags::dontwait)) return;
            if (!id.more()) continue;
            (void)router_.recv(body, zmq::recv_flags::dontwait);
            while (body.more()) {  // extra frames are not part of the protocol
                zmq::message_t extra;
                (void)router_.recv(extra, zmq::recv_flags::dontwait);
                if (!extra.more()) break;
            }
        } catch (const zmq::error_t& e) {
            logger->warn("agent transport: receive failed: {}", e.what());
            return;
        }
        std::string connection = to_string(id);
        // The ZAP handler admitted the connection's key and made it the User-Id.
        const char* user = body.gets("User-Id");
        if (user == nullptr) {
            warn_dropped("an unauthenticated peer", "it has no CURVE key");
            continue;
        }
        std::string key = user;
        KeyStatus status = authority_.status_of(key);
        auto answer = [&](const char* code, std::string text) {
            enqueue(connection, true, proto::encode(proto::ErrorReply{code, std::move(text)}));
        };
        if (status.state == KeyStatus::State::revoked) {
            answer("revoked", "this agent's key was revoked on the controller");
            continue;
        }
        const std::string_view frame(body.data<char>(), body.size());
        auto decoded = proto::decode(frame);
        if (!decoded) {
            const std::string code = proto::error_code_for(decoded.error());
            if (code == "version") {
                warn_other_version(status.agent, key, proto::declared_version(frame));
                enqueue(
                    connection, true,
                    proto::encode(proto::ErrorReply{code, decoded.error().message,
                                                    static_cast<std::uint32_t>(proto::kVersion)}));
                continue;
            }
            warn_dropped(status.agent.empty() ? "key " + printable(key) : "agent " + status.agent,
                         decoded.error().message);
            answer(code.c_str(), decoded.error().message);
            continue;
        }
        if (status.state == KeyStatus::State::unknown) {
            if (std::holds_alternative<proto::Hello>(*decoded) ||
                std::holds_alternative<proto::Enroll>(*decoded)) {
                handlers_.on_stranger(Stranger{std::move(connection), std::move(key)},
                                      std::move(*decoded), budget_->take(body.size()));
            } else {
                answer("not_accepted",
                       "this agent's key is not accepted: it waits for an admin, or enroll it "
                       "with a token");
            }
            continue;
        }
        if (auto [at, added] = connection_of_agent_.try_emplace(status.agent, connection);
            added || at->second != connection) {
            at->second = connection;
            // The socket it came on, as the monitor names connections (wait_for_hangups).
            // ZMQ_SRCFD is listed as deprecated but kept by libzmq 4.3; nothing else ties a
            // message to the monitor's connections.
            if (const int fd = zmq_msg_get(body.handle(), ZMQ_SRCFD); fd >= 0)
                agent_connections_.insert(fd);
        }
        if (handlers_.on_heartbeat && std::holds_alternative<proto::Heartbeat>(*decoded)) {
            if (auto reply = handlers_.on_heartbeat(status.agent)) {
                send_now(connection, *reply, status.agent);
                continue;
            }
        }
        handlers_.on_message(status.agent, key, std::move(*decoded), budget_->take(body.size()));
    }
}

void RouterThread::warn_dropped(const std::string& peer, const std::string& why) {
    if (warnings_.admit(peer, Clock::now())) logger->warn("{}: dropped a message: {}", peer, why);
}

void RouterThread::warn_other_version(const std::string& agent, const std::string& key,
                                      std::optional<std::uint64_t> version) {
    const std::string peer = (agent.empty() ? "an agent with key " : "agent " + agent + " (key ") +
                             key_fingerprint(key) + (agent.empty() ? "" : ")");
    if (!versions_.admit(peer, Clock::now())) return;
    logger->warn(
        "{} speaks protocol version {} and this controller version {}: refused until the two "
        "run matching releases (install the hostline-agent package of this controller's "
        "release on that host, or upgrade the controller)",
        peer, version ? std::to_string(*version) : "(unknown)", proto::kVersion);
}

void RouterThread::log_warning_summaries() {
    const auto now = Clock::now();
    for (const auto& summary : versions_.expire(now))
        logger->warn("{}: {} more messages of another protocol version refused in the last {} s",
                     summary.key, summary.suppressed, seconds(summary.interval));
    for (const auto& summary : warnings_.expire(now))
        logger->warn("{}: {} more malformed messages dropped in the last {} s", summary.key,
                     summary.suppressed, seconds(summary.interval));
    for (const auto& summary : pauses_.expire(now))
        logger->warn("agent transport: stopped reading agents {} more times in the last {} s",
                     summary.suppressed, seconds(summary.interval));
}

std::optional<Clock::time_point> RouterThread::next_summary() const {
    std::optional<Clock::time_point> soonest;
    for (auto due : {warnings_.next_summary(), pauses_.next_summary(), versions_.next_summary()})
        if (due && (!soonest || *due < *soonest)) soonest = due;
    return soonest;
}

void RouterThread::drain_outbox() {
    std::deque<Outgoing> batch;
    {
        std::lock_guard lock(outbox_mutex_);
        batch.swap(outbox_);
    }
    for (auto& [destination, is_connection, frame] : batch) {
        std::string_view connection = destination;
        if (!is_connection) {
            auto it = connection_of_agent_.find(destination);
            if (it == connection_of_agent_.end()) {
                logger->debug("agent {}: not connected, message dropped", destination);
                continue;
            }
            connection = it->second;
        }
        send_now(connection, frame, destination);
    }
}

void RouterThread::send_now(std::string_view connection, std::string_view frame,
                            std::string_view to) {
    try {
        if (!router_.send(zmq::buffer(connection),
                          zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
            !router_.send(zmq::message_t(frame.data(), frame.size()), zmq::send_flags::dontwait))
            logger->debug("agent {}: send queue full, message dropped", printable(to));
    } catch (const zmq::error_t& e) {
        // EHOSTUNREACH: not connected. Delivery is the protocol's job (resend until acked).
        logger->debug("agent {}: not connected, message dropped ({})", printable(to), e.what());
    }
}

// ZAP (RFC 27): version, request id, domain, address, routing id, mechanism, credentials.
void RouterThread::answer_zap() {
    for (;;) {
        std::vector<zmq::message_t> request;
        try {
            zmq::message_t part;
            if (!zap_.recv(part, zmq::recv_flags::dontwait)) return;
            request.push_back(std::move(part));
            while (request.back().more()) {
                zmq::message_t next;
                (void)zap_.recv(next, zmq::recv_flags::none);
                request.push_back(std::move(next));
            }
        } catch (const zmq::error_t& e) {
            logger->warn("agent transport: ZAP receive failed: {}", e.what());
            return;
        }
        std::string status = "400", text = "malformed ZAP request", user;
        if (request.size() >= 7 && to_string(request[5]) == "CURVE" && request[6].size() == 32) {
            char z85[41] = {};
            zmq_z85_encode(z85, request[6].data<uint8_t>(), 32);
            // Accepted and unknown keys are admitted with the key as User-Id: what a connection
            // may do is decided per message (drain_router), so accepting or revoking a key
            // takes effect on a live connection. Revoked keys never get that far.
            std::string address = to_string(request[3]);
            if (authority_.status_of(z85).state == KeyStatus::State::revoked) {
                text = "revoked key";
                logger->warn("refused an agent from {} with a revoked key {}", address, z85);
            } else {
                status = "200";
                text = "OK";
                user = z85;
            }
        }
        try {
            std::string version = request.empty() ? "1.0" : to_string(request[0]);
            std::string request_id = request.size() > 1 ? to_string(request[1]) : "";
            zap_.send(zmq::buffer(version), zmq::send_flags::sndmore);
            zap_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
            zap_.send(zmq::buffer(status), zmq::send_flags::sndmore);
            zap_.send(zmq::buffer(text), zmq::send_flags::sndmore);
            zap_.send(zmq::buffer(user), zmq::send_flags::sndmore);
            zap_.send(zmq::message_t(), zmq::send_flags::none);
        } catch (const zmq::error_t& e) {
            logger->warn("agent transport: ZAP reply failed: {}", e.what());
        }
    }
}

}  // namespace hostline::transport
