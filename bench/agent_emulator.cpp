// The one file of the emulator that calls libzmq. Sockets are watched through their ZMQ_FD
// with epoll, so a wake-up costs what the ready sockets cost, not what 20,000 do (zmq_poll
// would ask every socket for its events on every wake-up).
#include "bench/agent_emulator.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <queue>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "common/proto/codec.hpp"

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The agent's window (docs/protocol.md, "Flow control"): messages sent and not yet acked.
constexpr std::size_t kWindow = 64;
// Hello again when no welcome came in this long (the controller may have been busy).
constexpr auto kHelloRetry = std::chrono::seconds(10);

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A frame of a run's output or its result, kept until the controller acks its seq.
struct RunFrame {
    std::uint64_t run_id = 0;
    std::uint64_t seq = 0;
    std::string frame;
};

struct HeldRun {
    std::int64_t started_at_ms = 0;
    std::uint64_t result_seq = 0;  // 0 while it "runs"
};

struct Agent {
    const EmulatedIdentity* identity = nullptr;
    void* control = nullptr;  // DEALER to the controller
    void* echo = nullptr;     // DEALER to the bare ROUTER, or null
    bool welcomed = false;
    bool heartbeating = false;
    std::uint32_t heartbeat_ms = 5000;
    std::uint32_t running = 0;
    std::deque<RunFrame> waiting;    // beyond the window
    std::deque<RunFrame> in_flight;  // sent, not acked
    std::unordered_map<std::uint64_t, HeldRun> held;
    std::unordered_set<std::uint64_t> done;  // results acked: a repeat is refused
};

struct Timer {
    enum class Kind { heartbeat, hello, finish };
    Clock::time_point at;
    std::uint32_t agent = 0;
    Kind kind = Kind::heartbeat;
    std::uint64_t run_id = 0;
    bool operator>(const Timer& other) const { return at > other.at; }
};

std::string zmq_failure(const std::string& what) {
    return what + ": " + zmq_strerror(zmq_errno());
}

}  // namespace

// Everything run() owns, torn down when it returns.
struct AgentEmulator::Loop {
    const EmulatorOptions& options;
    EmulatorCounts& counts;
    int wake_fd;
    void* context = nullptr;
    int epoll_fd = -1;
    std::vector<Agent> agents;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
    std::mt19937 random{std::random_device{}()};
    std::string chunk_payload;
    std::size_t opened = 0;              // agents[0, opened) have their sockets
    std::optional<std::string> failure;  // a socket that could not be opened: run() returns it

    Loop(const EmulatorOptions& o, EmulatorCounts& c, int wake)
        : options(o), counts(c), wake_fd(wake) {
        chunk_payload.assign(std::clamp<std::size_t>(options.chunk_bytes, 1, proto::kMaxChunkBytes),
                             'e');
    }

    ~Loop() {
        for (Agent& agent : agents) {
            if (agent.control) zmq_close(agent.control);
            if (agent.echo) zmq_close(agent.echo);
        }
        if (epoll_fd >= 0) ::close(epoll_fd);
        if (context) zmq_ctx_term(context);
    }

    Result<void> open() {
        context = zmq_ctx_new();
        if (!context) return fail(zmq_failure("zmq_ctx_new"));
        zmq_ctx_set(context, ZMQ_IO_THREADS, std::max(1, options.io_threads));
        const int sockets_per_agent = options.echo_endpoint.empty() ? 1 : 2;
        zmq_ctx_set(context, ZMQ_MAX_SOCKETS,
                    static_cast<int>(options.identities.size()) * sockets_per_agent + 16);
        epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd < 0) return fail(std::string("epoll_create1: ") + std::strerror(errno));
        epoll_event wake{};
        wake.events = EPOLLIN;
        wake.data.u64 = ~std::uint64_t{0};
        ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake);

        agents.resize(options.identities.size());
        for (std::size_t i = 0; i < agents.size(); ++i) agents[i].identity = &options.identities[i];
        const std::size_t first =
            options.connect_window == 0 ? agents.size() : options.connect_window;
        while (opened < std::min(first, agents.size()))
            if (auto done = open_agent(static_cast<std::uint32_t>(opened++)); !done) return done;
        return {};
    }

    // One more identity connects, as one of the window was welcomed.
    void open_next() {
        if (opened >= agents.size() || failure) return;
        if (auto done = open_agent(static_cast<std::uint32_t>(opened++)); !done)
            failure = done.error().message;
    }

    // A CURVE client of server_key as this identity.
    static void set_curve_client(void* socket, const std::string& server_key,
                                 const transport::CurveKeyPair& keys) {
        zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_key.data(), server_key.size());
        zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, keys.public_key.data(), keys.public_key.size());
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size());
    }

    // The controller socket set up as the real agent's (agent/controller_link.cpp), except
    // ZMQ_IMMEDIATE: the hello is queued until the handshake is done instead of waiting for
    // the monitor's event, which would cost a monitor socket per identity.
    Result<void> open_agent(std::uint32_t index) {
        Agent& agent = agents[index];
        const EmulatedIdentity& id = *agent.identity;
        agent.control = zmq_socket(context, ZMQ_DEALER);
        if (!agent.control) return fail(zmq_failure("DEALER for " + id.name));
        const std::int64_t max_message = static_cast<std::int64_t>(proto::kMaxMessageBytes);
        const int zero = 0, hwm = 10000, reconnect_max = 10000,
                  heartbeat = options.zmtp_heartbeat_ms, heartbeat_timeout = 3 * heartbeat,
                  handshake = 10000;
        const int reconnect = std::uniform_int_distribution<int>(100, 300)(random);
        set_curve_client(agent.control, options.controller_key, id.keys);
        zmq_setsockopt(agent.control, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message);
        zmq_setsockopt(agent.control, ZMQ_LINGER, &zero, sizeof zero);
        zmq_setsockopt(agent.control, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(agent.control, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
        zmq_setsockopt(agent.control, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
        zmq_setsockopt(agent.control, ZMQ_HEARTBEAT_IVL, &heartbeat, sizeof heartbeat);
        zmq_setsockopt(agent.control, ZMQ_HEARTBEAT_TIMEOUT, &heartbeat_timeout,
                       sizeof heartbeat_timeout);
        zmq_setsockopt(agent.control, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake);
        if (zmq_connect(agent.control, options.controller_endpoint.c_str()) != 0)
            return fail(zmq_failure("connect " + id.name));
        if (auto watched = watch(agent.control, std::uint64_t{index} << 1); !watched)
            return watched;

        if (!options.echo_endpoint.empty()) {
            agent.echo = zmq_socket(context, ZMQ_DEALER);
            if (!agent.echo) return fail(zmq_failure("echo DEALER for " + id.name));
            zmq_setsockopt(agent.echo, ZMQ_ROUTING_ID, id.name.data(), id.name.size());
            set_curve_client(agent.echo, options.echo_key, id.keys);
            zmq_setsockopt(agent.echo, ZMQ_LINGER, &zero, sizeof zero);
            if (zmq_connect(agent.echo, options.echo_endpoint.c_str()) != 0)
                return fail(zmq_failure("connect echo " + id.name));
            if (auto watched = watch(agent.echo, (std::uint64_t{index} << 1) | 1); !watched)
                return watched;
            send_raw(agent.echo, "ready");
            // A pipe that was never read from does not wake its reader when a message comes
            // (only a reader that found it empty is woken): read once, finding nothing, now.
            drain_echo(index);
        }
        send_hello(index);
        drain_control(index);
        return {};
    }

    Result<void> watch(void* socket, std::uint64_t key) {
        int fd = -1;
        std::size_t size = sizeof fd;
        if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0) return fail(zmq_failure("ZMQ_FD"));
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = key;
        if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
            return fail(std::string("epoll_ctl: ") + std::strerror(errno));
        return {};
    }

    bool send_raw(void* socket, std::string_view frame) {
        if (zmq_send(socket, frame.data(), frame.size(), ZMQ_DONTWAIT) >= 0) return true;
        counts.send_failures.fetch_add(1, std::memory_order_relaxed);
        return false;
    }

    void send(std::uint32_t index, const proto::Message& message) {
        send_raw(agents[index].control, proto::encode(message));
    }

    void send_hello(std::uint32_t index) {
        Agent& agent = agents[index];
        proto::Hello hello;
        hello.agent_id = agent.identity->name;
        hello.hostname = agent.identity->name;
        hello.version = "emulator";
        hello.labels = options.labels;
        hello.facts = {{"os", "emulated"}};
        hello.capacity = options.capacity;
        for (const auto& [run_id, run] : agent.held)
            hello.runs.push_back({run_id, run.result_seq != 0});
        send(index, hello);
        timers.push({Clock::now() + kHelloRetry, index, Timer::Kind::hello, 0});
    }

    void serve() {
        std::vector<epoll_event> events(1024);
        for (;;) {
            int timeout = -1;
            if (!timers.empty()) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(timers.top().at -
                                                                                  Clock::now());
                timeout = static_cast<int>(std::max<std::int64_t>(0, left.count() + 1));
            }
            int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout);
            for (int i = 0; i < n; ++i) {
                const std::uint64_t key = events[i].data.u64;
                if (key == ~std::uint64_t{0}) return;  // stop()
                const auto index = static_cast<std::uint32_t>(key >> 1);
                if (key & 1)
                    drain_echo(index);
                else
                    drain_control(index);
            }
            fire_timers();
            if (failure) return;
        }
    }

    // Until EAGAIN: that also resets the socket's ZMQ_FD, which epoll then waits on again.
    void drain_control(std::uint32_t index) {
        void* socket = agents[index].control;
        zmq_msg_t message;
        zmq_msg_init(&message);
        while (zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) >= 0) {
            std::string_view frame(static_cast<const char*>(zmq_msg_data(&message)),
                                   zmq_msg_size(&message));
            if (auto decoded = proto::decode(frame))
                handle(index, *decoded);
            else
                counts.errors.fetch_add(1, std::memory_order_relaxed);
        }
        zmq_msg_close(&message);
    }

    void drain_echo(std::uint32_t index) {
        void* socket = agents[index].echo;
        zmq_msg_t message;
        zmq_msg_init(&message);
        while (zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) >= 0) {
            if (zmq_msg_send(&message, socket, ZMQ_DONTWAIT) >= 0)
                counts.echoes.fetch_add(1, std::memory_order_relaxed);
            else
                counts.send_failures.fetch_add(1, std::memory_order_relaxed);
            zmq_msg_init(&message);
        }
        zmq_msg_close(&message);
    }

    void handle(std::uint32_t index, const proto::Message& message) {
        Agent& agent = agents[index];
        if (const auto* welcome = std::get_if<proto::Welcome>(&message)) {
            if (!agent.welcomed) counts.welcomed.fetch_add(1, std::memory_order_relaxed);
            if (!agent.welcomed && !agent.heartbeating) open_next();  // its first welcome
            agent.welcomed = true;
            agent.heartbeat_ms = std::max<std::uint32_t>(welcome->heartbeat_ms, 100);
            if (!agent.heartbeating) {
                agent.heartbeating = true;
                // A random phase, as real agents that started at different times have.
                auto phase = std::uniform_int_distribution<int>(
                    0, static_cast<int>(agent.heartbeat_ms))(random);
                timers.push({Clock::now() + std::chrono::milliseconds(phase), index,
                             Timer::Kind::heartbeat, 0});
            }
            // Everything unacknowledged again, as the agent does after each welcome.
            for (const RunFrame& frame : agent.in_flight) send_raw(agent.control, frame.frame);
        } else if (const auto* run = std::get_if<proto::Run>(&message)) {
            on_run(index, *run);
        } else if (const auto* ack = std::get_if<proto::Ack>(&message)) {
            on_ack(index, *ack);
        } else if (const auto* beat = std::get_if<proto::Heartbeat>(&message)) {
            // The controller's pacing, taken from the next heartbeat on, as the agent does.
            if (beat->interval_ms != 0)
                agent.heartbeat_ms = std::clamp<std::uint32_t>(beat->interval_ms, 100, 60000);
        } else if (const auto* error = std::get_if<proto::ErrorReply>(&message)) {
            counts.errors.fetch_add(1, std::memory_order_relaxed);
            if (error->code == "no_session") {
                if (agent.welcomed) counts.welcomed.fetch_sub(1, std::memory_order_relaxed);
                agent.welcomed = false;
                send_hello(index);
            }
        }
        // cancel (runs end on their own), bye: nothing to do.
    }

    void on_run(std::uint32_t index, const proto::Run& run) {
        Agent& agent = agents[index];
        proto::RunAck ack;
        ack.run_id = run.run_id;
        ack.accepted = true;
        if (agent.done.count(run.run_id)) {
            ack.accepted = false;
            ack.reason = "already ran on this agent";
            send(index, ack);
            return;
        }
        if (agent.held.count(run.run_id)) {  // a resend: "already received"
            send(index, ack);
            return;
        }
        agent.held[run.run_id] = {unix_ms(), 0};
        ++agent.running;
        counts.runs.fetch_add(1, std::memory_order_relaxed);
        send(index, ack);
        if (options.run_duration.count() == 0)
            finish(index, run.run_id);
        else
            timers.push(
                {Clock::now() + options.run_duration, index, Timer::Kind::finish, run.run_id});
    }

    void finish(std::uint32_t index, std::uint64_t run_id) {
        Agent& agent = agents[index];
        auto held = agent.held.find(run_id);
        if (held == agent.held.end() || held->second.result_seq != 0) return;
        --agent.running;
        std::uint64_t seq = 0;
        for (std::uint64_t left = options.output_bytes; left > 0;) {
            const std::size_t size = std::min<std::uint64_t>(left, chunk_payload.size());
            proto::Output output;
            output.run_id = run_id;
            output.seq = ++seq;
            output.stream = "stdout";
            output.data.data.assign(chunk_payload, 0, size);
            agent.waiting.push_back({run_id, seq, proto::encode(output)});
            left -= size;
        }
        proto::RunResult result;
        result.run_id = run_id;
        result.seq = ++seq;
        result.status = "exited";
        result.exit_code = 0;
        result.started_at_ms = held->second.started_at_ms;
        result.ended_at_ms = unix_ms();
        result.stdout_bytes = options.output_bytes;
        held->second.result_seq = seq;
        agent.waiting.push_back({run_id, seq, proto::encode(result)});
        pump(index);
    }

    void pump(std::uint32_t index) {
        Agent& agent = agents[index];
        while (agent.in_flight.size() < kWindow && !agent.waiting.empty()) {
            send_raw(agent.control, agent.waiting.front().frame);
            agent.in_flight.push_back(std::move(agent.waiting.front()));
            agent.waiting.pop_front();
        }
    }

    void on_ack(std::uint32_t index, const proto::Ack& ack) {
        counts.acks.fetch_add(1, std::memory_order_relaxed);
        Agent& agent = agents[index];
        std::erase_if(agent.in_flight, [&](const RunFrame& frame) {
            return frame.run_id == ack.run_id && frame.seq <= ack.seq;
        });
        auto held = agent.held.find(ack.run_id);
        if (held != agent.held.end() && held->second.result_seq != 0 &&
            ack.seq >= held->second.result_seq) {
            agent.held.erase(held);
            agent.done.insert(ack.run_id);
            counts.runs_acked.fetch_add(1, std::memory_order_relaxed);
        }
        pump(index);
    }

    void fire_timers() {
        const auto now = Clock::now();
        while (!timers.empty() && timers.top().at <= now) {
            const Timer timer = timers.top();
            timers.pop();
            Agent& agent = agents[timer.agent];
            switch (timer.kind) {
                case Timer::Kind::heartbeat: {
                    proto::Heartbeat heartbeat;
                    heartbeat.running = agent.running;
                    send(timer.agent, heartbeat);
                    timers.push({now + std::chrono::milliseconds(agent.heartbeat_ms), timer.agent,
                                 Timer::Kind::heartbeat, 0});
                    break;
                }
                case Timer::Kind::hello:
                    if (!agent.welcomed) send_hello(timer.agent);
                    break;
                case Timer::Kind::finish:
                    finish(timer.agent, timer.run_id);
                    break;
            }
            // A send may have taken the socket's pending commands and with them the ZMQ_FD's
            // readiness: read what came meanwhile, or epoll would not say so again.
            drain_control(timer.agent);
        }
    }
};

AgentEmulator::AgentEmulator(EmulatorOptions options)
    : options_(std::move(options)), wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

AgentEmulator::~AgentEmulator() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<void> AgentEmulator::run() {
    if (wake_fd_ < 0) return fail(std::string("eventfd: ") + std::strerror(errno));
    Loop loop(options_, counts_, wake_fd_);
    if (auto opened = loop.open(); !opened) return opened;
    loop.serve();
    if (loop.failure) return fail(*loop.failure);
    return {};
}

void AgentEmulator::stop() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace hostline::bench
