// The controller's transport over real ZeroMQ and CURVE, with a test DEALER as the agent.
#include "common/transport/router_thread.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/log/log.hpp"
#include "common/proto/codec.hpp"

namespace hostline::transport {
namespace {

using namespace std::chrono_literals;

class FixedKeys : public KeyAuthority {
  public:
    explicit FixedKeys(std::map<std::string, std::string> names) : names_(std::move(names)) {}
    KeyStatus status_of(const std::string& key) override {
        std::lock_guard lock(mutex_);
        if (revoked_.count(key)) return {KeyStatus::State::revoked, {}};
        auto it = names_.find(key);
        if (it == names_.end()) return {KeyStatus::State::unknown, {}};
        return {KeyStatus::State::accepted, it->second};
    }
    void revoke(const std::string& key) {
        std::lock_guard lock(mutex_);
        revoked_.insert(key);
    }

  private:
    std::mutex mutex_;
    std::map<std::string, std::string> names_;
    std::set<std::string> revoked_;
};

class RouterThreadTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server_ = *generate_key_pair();
        client_ = *generate_key_pair();
        keys_ = std::make_unique<FixedKeys>(
            std::map<std::string, std::string>{{client_.public_key, "web-01"}});
        start({}, {[this](const std::string& agent, const std::string&, proto::Message m) {
                       std::lock_guard lock(mutex_);
                       received_.emplace_back(agent, std::move(m));
                       arrived_.notify_all();
                   },
                   [this](const Stranger& from, proto::Message m) {
                       std::lock_guard lock(mutex_);
                       strangers_.emplace_back(from, std::move(m));
                       arrived_.notify_all();
                   }});
    }
    void TearDown() override {
        if (router_) router_->stop();
    }

    // (Re)starts the transport with these options and handlers.
    void start(RouterOptions options, RouterThread::Handlers handlers) {
        if (router_) router_->stop();
        router_ = std::make_unique<RouterThread>("tcp://127.0.0.1:*", server_, *keys_, options);
        auto started = router_->start(std::move(handlers));
        ASSERT_TRUE(started.ok()) << started.error().message;
    }

    // A test agent's DEALER. `immediate` as the real agent opens its link: ZeroMQ then
    // discards what the agent had not read yet when the connection drops.
    zmq::socket_t agent(const std::string& name, const CurveKeyPair& keys, bool immediate = false) {
        zmq::socket_t s(context_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::routing_id, name);
        s.set(zmq::sockopt::immediate, immediate ? 1 : 0);
        s.set(zmq::sockopt::curve_serverkey, server_.public_key);
        s.set(zmq::sockopt::curve_publickey, keys.public_key);
        s.set(zmq::sockopt::curve_secretkey, keys.secret_key);
        s.set(zmq::sockopt::linger, 0);
        s.connect(router_->endpoint());
        return s;
    }

    static void send(zmq::socket_t& s, const std::string& frame) {
        s.send(zmq::buffer(frame), zmq::send_flags::none);
    }

    // The next message the agent socket receives, decoded, or nothing within the timeout.
    static std::optional<proto::Message> receive(zmq::socket_t& s,
                                                 std::chrono::milliseconds timeout = 3s) {
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
        zmq::message_t m;
        (void)s.recv(m);
        auto decoded = proto::decode(std::string_view(m.data<char>(), m.size()));
        if (!decoded) return std::nullopt;
        return *decoded;
    }

    bool wait_received(std::size_t n, std::chrono::milliseconds timeout = 3s) {
        std::unique_lock lock(mutex_);
        return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
    }

    CurveKeyPair server_, client_;
    std::unique_ptr<FixedKeys> keys_;
    std::unique_ptr<RouterThread> router_;
    zmq::context_t context_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<std::pair<std::string, proto::Message>> received_;
    std::vector<std::pair<Stranger, proto::Message>> strangers_;
};

TEST_F(RouterThreadTest, DeliversMessagesFromAnAcceptedAgentAndSendsBack) {
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{2}));
    ASSERT_TRUE(wait_received(1));
    EXPECT_EQ(received_[0].first, "web-01");
    EXPECT_EQ(std::get<proto::Heartbeat>(received_[0].second).running, 2u);

    router_->send("web-01", proto::Welcome{"ctl", 5000});
    auto reply = receive(a);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(std::get<proto::Welcome>(*reply).controller_id, "ctl");
}

TEST_F(RouterThreadTest, GarbageIsAnsweredWithAnErrorAndThePeerStaysConnected) {
    zmq::socket_t a = agent("web-01", client_);
    send(a, std::string("\x01\x02\xff", 3));
    auto first = receive(a);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*first).code, "malformed");

    std::string truncated = proto::encode(proto::Heartbeat{1});
    send(a, truncated.substr(0, truncated.size() - 2));
    auto second = receive(a);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*second).code, "malformed");

    // An unknown type: a valid map whose "t" this version does not know.
    std::string unknown = proto::encode(proto::Bye{"x"});
    unknown.replace(unknown.find("bye"), 3, "zap");
    send(a, unknown);
    auto third = receive(a);
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*third).code, "unknown_type");
    EXPECT_EQ(std::get<proto::ErrorReply>(*third).message, "unknown message type 'zap'");

    // Still connected: a good message goes through, and nothing bad was handed on.
    send(a, proto::encode(proto::Heartbeat{7}));
    ASSERT_TRUE(wait_received(1));
    ASSERT_EQ(received_.size(), 1u);
    EXPECT_EQ(std::get<proto::Heartbeat>(received_[0].second).running, 7u);
}

TEST_F(RouterThreadTest, AnUnknownKeyMayOnlySayHelloOrEnroll) {
    CurveKeyPair stranger = *generate_key_pair();
    zmq::socket_t s = agent("web-09", stranger);
    send(s, proto::encode(proto::Heartbeat{1}));
    auto refused = receive(s);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*refused).code, "not_accepted");

    proto::Hello hello;
    hello.agent_id = "web-09";
    send(s, proto::encode(hello));
    {
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(arrived_.wait_for(lock, 3s, [&] { return !strangers_.empty(); }));
    }
    EXPECT_TRUE(received_.empty()) << "nothing from an unknown key reaches the scheduler";
    EXPECT_EQ(strangers_[0].first.public_key, stranger.public_key);
    router_->reply(strangers_[0].first, proto::ErrorReply{"not_accepted", "pending"});
    auto answer = receive(s);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*answer).message, "pending");
}

TEST_F(RouterThreadTest, TheKeyNotTheRoutingIdSaysWhoAnAgentIs) {
    zmq::socket_t a = agent("db-01", client_);  // the key belongs to web-01
    send(a, proto::encode(proto::Heartbeat{1}));
    ASSERT_TRUE(wait_received(1));
    EXPECT_EQ(received_[0].first, "web-01");
}

TEST_F(RouterThreadTest, ARevokedKeyIsCutOffAndRefusedAtTheHandshake) {
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    ASSERT_TRUE(wait_received(1));
    keys_->revoke(client_.public_key);
    send(a, proto::encode(proto::Heartbeat{2}));
    auto answer = receive(a);
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*answer).code, "revoked");
    EXPECT_EQ(received_.size(), 1u);

    zmq::socket_t again = agent("web-01", client_);
    send(again, proto::encode(proto::Heartbeat{3}));
    EXPECT_FALSE(receive(again, 1s).has_value());
    EXPECT_EQ(received_.size(), 1u);
}

TEST_F(RouterThreadTest, AnotherProtocolVersionIsAnsweredWithTheVersionCode) {
    zmq::socket_t a = agent("web-01", client_);
    std::string frame = proto::encode(proto::Heartbeat{1});
    const auto v = frame.find("\xa1v");  // "v": 1 is a fixstr key and a positive fixint
    ASSERT_NE(v, std::string::npos);
    frame[v + 2] = 7;
    send(a, frame);
    auto reply = receive(a);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(std::get<proto::ErrorReply>(*reply).code, "version");
    EXPECT_NE(std::get<proto::ErrorReply>(*reply).message.find("protocol version 7"),
              std::string::npos);
    EXPECT_EQ(std::get<proto::ErrorReply>(*reply).speaks, 1u)
        << "the refusal says which version the controller speaks";
}

std::chrono::microseconds cpu_time() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto us = [](const timeval& t) {
        return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
    };
    return us(usage.ru_utime) + us(usage.ru_stime);
}

TEST_F(RouterThreadTest, StopsReadingWhileTooManyMessagesAreUnfinishedAndWaitsWithoutSpinning) {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::uint32_t> seen;
    std::vector<InboundTicket> held;
    bool hold = true;
    start({.inbound = {.messages = 10, .bytes = 1 << 20}},
          {[&](const std::string&, const std::string&, proto::Message m, InboundTicket ticket) {
               std::lock_guard lock(mutex);
               seen.push_back(std::get<proto::Heartbeat>(m).running);
               if (hold) held.push_back(std::move(ticket));
               arrived.notify_all();
           },
           [](const Stranger&, proto::Message) {}});
    auto wait_seen = [&](std::size_t n) {
        std::unique_lock lock(mutex);
        return arrived.wait_for(lock, 5s, [&] { return seen.size() >= n; });
    };
    auto seen_now = [&] {
        std::lock_guard lock(mutex);
        return seen.size();
    };

    zmq::socket_t a = agent("web-01", client_);
    for (std::uint32_t i = 0; i < 100; ++i) send(a, proto::encode(proto::Heartbeat{i}));
    ASSERT_TRUE(wait_seen(10));
    const auto cpu_before = cpu_time();
    std::this_thread::sleep_for(500ms);
    const auto cpu_spent = cpu_time() - cpu_before;
    EXPECT_EQ(seen_now(), 10u) << "nothing more is read while ten messages are unfinished";
    EXPECT_LT(cpu_spent, 150ms) << "the transport sleeps while it waits";

    // Reading resumes once half of them are finished, not at the first one.
    {
        std::lock_guard lock(mutex);
        held.erase(held.begin(), held.begin() + 4);
    }
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(seen_now(), 10u);
    {
        std::lock_guard lock(mutex);
        held.erase(held.begin());
    }
    ASSERT_TRUE(wait_seen(15));
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(seen_now(), 15u) << "and stops again at the limit";

    // Once the consumer keeps up, everything arrives, once and in order.
    {
        std::lock_guard lock(mutex);
        hold = false;
        held.clear();
    }
    ASSERT_TRUE(wait_seen(100));
    std::this_thread::sleep_for(100ms);
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 100u);
    for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST_F(RouterThreadTest, ATicketMayOutliveTheTransport) {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<InboundTicket> held;
    start({}, {[&](const std::string&, const std::string&, proto::Message, InboundTicket ticket) {
                   std::lock_guard lock(mutex);
                   held.push_back(std::move(ticket));
                   arrived.notify_all();
               },
               [](const Stranger&, proto::Message) {}});
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(arrived.wait_for(lock, 3s, [&] { return !held.empty(); }));
    }
    router_->stop();
    router_.reset();
    held.clear();  // e.g. a handler still queued on the io thread at shutdown
}

// Captures what the transport logs (every module's lines), for as long as it lives.
class CapturedLog {
  public:
    CapturedLog() { log::use_sink(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)); }
    ~CapturedLog() { log::use_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>()); }
    std::string text() { return text_.str(); }
    std::size_t count(const std::string& needle) {
        std::string all = text();
        std::size_t n = 0;
        for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1))
            ++n;
        return n;
    }

  private:
    std::ostringstream text_;
};

TEST_F(RouterThreadTest, APeerSendingGarbageWritesAFewLinesAndThenOneSummary) {
    router_->stop();  // the logger is swapped while no transport thread logs
    CapturedLog log;
    start({.warnings = {.burst = 3, .interval = 1s, .max_keys = 16}},
          {[this](const std::string& agent, const std::string&, proto::Message m) {
               std::lock_guard lock(mutex_);
               received_.emplace_back(agent, std::move(m));
               arrived_.notify_all();
           },
           [](const Stranger&, proto::Message) {}});
    zmq::socket_t a = agent("web-01", client_);
    const int kGarbage = 1000;
    for (int i = 0; i < kGarbage; ++i) send(a, std::string("\xc1", 1));  // never valid msgpack
    int answered = 0;
    while (answered < kGarbage && receive(a, 3s)) ++answered;
    EXPECT_EQ(answered, kGarbage) << "every bad message is still answered";

    // The summary comes when the interval ends, without another message to wake the transport.
    for (int i = 0; i < 40 && log.count("more malformed") == 0; ++i)
        std::this_thread::sleep_for(100ms);
    EXPECT_EQ(log.count("agent web-01: dropped a message"), 3u) << log.text();
    EXPECT_EQ(log.count("agent web-01: 997 more malformed messages dropped in the last 1 s"), 1u)
        << log.text();

    // Still connected and heard.
    send(a, proto::encode(proto::Heartbeat{5}));
    ASSERT_TRUE(wait_received(1));
    router_->stop();
}

TEST_F(RouterThreadTest, StopWaitsForTheAgentToReadItsByeAndHangUp) {
    zmq::socket_t a = agent("web-01", client_, /*immediate=*/true);
    send(a, proto::encode(proto::Heartbeat{1}));
    ASSERT_TRUE(wait_received(1));
    router_->send("web-01", proto::Bye{"controller stopping"});
    std::thread stopping([this] { router_->stop(); });
    // A busy agent reads late: the bye is still there when it does.
    std::this_thread::sleep_for(300ms);
    auto bye = receive(a);
    ASSERT_TRUE(bye.has_value()) << "the bye was lost with the connection";
    EXPECT_EQ(std::get<proto::Bye>(*bye).reason, "controller stopping");
    a.close();  // hangs up, as the agent does on a bye: stop() returns
    stopping.join();
}

TEST_F(RouterThreadTest, AnAgentThatDoesNotHangUpAfterTheByeIsCutOffAndCounted) {
    router_->stop();  // the logger is swapped while no transport thread logs
    CapturedLog log;
    start({}, {[this](const std::string& agent, const std::string&, proto::Message m) {
                   std::lock_guard lock(mutex_);
                   received_.emplace_back(agent, std::move(m));
                   arrived_.notify_all();
               },
               [](const Stranger&, proto::Message) {}});
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    ASSERT_TRUE(wait_received(1));
    router_->send("web-01", proto::Bye{"controller stopping"});
    router_->stop();
    EXPECT_EQ(log.count("agent transport: 1 of 1 agents still connected 1000 ms after the bye; "
                        "closing their connections"),
              1u)
        << log.text();
    auto bye = receive(a);
    ASSERT_TRUE(bye.has_value());
    EXPECT_TRUE(std::holds_alternative<proto::Bye>(*bye));
}

// A key waiting to be accepted gets no bye (it has no session), so it would never hang up:
// stop() waits for the agents it told bye, not for every connection.
TEST_F(RouterThreadTest, AConnectionOfAKeyNotAcceptedIsNotWaitedForAtStop) {
    router_->stop();  // the logger is swapped while no transport thread logs
    CapturedLog log;
    start({}, {[](const std::string&, const std::string&, proto::Message) {},
               [this](const Stranger& from, proto::Message m) {
                   std::lock_guard lock(mutex_);
                   strangers_.emplace_back(from, std::move(m));
                   arrived_.notify_all();
               }});
    CurveKeyPair pending = *generate_key_pair();
    zmq::socket_t s = agent("web-09", pending);
    proto::Hello hello;
    hello.agent_id = "web-09";
    send(s, proto::encode(hello));
    {
        std::unique_lock lock(mutex_);
        ASSERT_TRUE(arrived_.wait_for(lock, 3s, [&] { return !strangers_.empty(); }));
    }
    router_->stop();
    EXPECT_EQ(log.count("still connected"), 0u) << log.text();
}

TEST_F(RouterThreadTest, AHeartbeatTheHookAnswersIsRepliedToOnTheSpotAndNotHandedOn) {
    std::atomic<bool> in_session{true};
    std::atomic<int> asked{0};
    router_->stop();
    start({}, {[this](const std::string& agent, const std::string&, proto::Message m) {
                   std::lock_guard lock(mutex_);
                   received_.emplace_back(agent, std::move(m));
                   arrived_.notify_all();
               },
               [](const Stranger&, proto::Message) {},
               [&](const std::string& agent) -> std::optional<std::string> {
                   EXPECT_EQ(agent, "web-01");
                   ++asked;
                   if (!in_session) return std::nullopt;
                   return proto::encode(proto::Heartbeat{0});
               }});
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{3}));
    auto reply = receive(a);
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(std::holds_alternative<proto::Heartbeat>(*reply));
    EXPECT_EQ(asked, 1);
    // Other messages are not the hook's; a heartbeat it declines is handed on as before.
    send(a, proto::encode(proto::RunAck{7, true, ""}));
    ASSERT_TRUE(wait_received(1));
    in_session = false;
    send(a, proto::encode(proto::Heartbeat{4}));
    ASSERT_TRUE(wait_received(2));
    EXPECT_EQ(asked, 2);
    EXPECT_TRUE(std::holds_alternative<proto::RunAck>(received_[0].second));
    EXPECT_EQ(std::get<proto::Heartbeat>(received_[1].second).running, 4u);
    EXPECT_FALSE(receive(a, 200ms).has_value()) << "nothing answered the declined heartbeat";
}

// Only the first message queued while the transport thread has not taken the outbox wakes
// it; what others queue meanwhile goes out with it. Two threads queueing at once, in bursts,
// and every message arrives.
TEST_F(RouterThreadTest, EveryMessageQueuedFromSeveralThreadsAtOnceIsSent) {
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    ASSERT_TRUE(wait_received(1));  // web-01's connection is known
    constexpr std::uint32_t kEach = 5000;
    auto queue_from = [this](std::uint32_t first) {
        for (std::uint32_t i = 0; i < kEach; ++i) {
            router_->send("web-01", proto::Heartbeat{first + i});
            if (i % 500 == 0) std::this_thread::sleep_for(1ms);  // let the thread catch up
        }
    };
    std::thread one(queue_from, 0), two(queue_from, kEach);
    std::set<std::uint32_t> seen;
    while (seen.size() < 2 * kEach) {
        auto m = receive(a, 3s);
        if (!m) break;
        seen.insert(std::get<proto::Heartbeat>(*m).running);
    }
    one.join();
    two.join();
    EXPECT_EQ(seen.size(), 2 * kEach) << "messages were left in the outbox";
}

TEST_F(RouterThreadTest, SendingToAnAgentThatIsNotConnectedIsDroppedQuietly) {
    router_->send("nobody", proto::Welcome{"ctl", 5000});
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    EXPECT_TRUE(wait_received(1));
}

// A heartbeat as a peer speaking protocol version `version` would send it.
std::string heartbeat_of_version(int version) {
    std::string frame = proto::encode(proto::Heartbeat{1});
    frame[frame.find("\xa1v") + 2] = static_cast<char>(version);  // "v": a positive fixint
    return frame;
}

TEST_F(RouterThreadTest, AnAgentOfAnotherVersionIsOneLineNamingItsKeyAndBothVersions) {
    router_->stop();  // the logger is swapped while no transport thread logs
    CapturedLog log;
    start({}, {[](const std::string&, const std::string&, proto::Message) {},
               [](const Stranger&, proto::Message) {}});
    zmq::socket_t known = agent("web-01", client_);
    CurveKeyPair stranger_keys = *generate_key_pair();
    zmq::socket_t stranger = agent("web-02", stranger_keys);
    for (int i = 0; i < 5; ++i) {
        send(known, heartbeat_of_version(2));
        send(stranger, heartbeat_of_version(2));
        for (zmq::socket_t* s : {&known, &stranger}) {
            auto reply = receive(*s);
            ASSERT_TRUE(reply.has_value());
            EXPECT_EQ(std::get<proto::ErrorReply>(*reply).code, "version");
            EXPECT_EQ(std::get<proto::ErrorReply>(*reply).speaks, 1u);
        }
    }
    router_->stop();
    const std::string both_versions = " speaks protocol version 2 and this controller version 1: ";
    EXPECT_EQ(
        log.count("agent web-01 (key " + key_fingerprint(client_.public_key) + ")" + both_versions),
        1u)
        << log.text();
    EXPECT_EQ(
        log.count("an agent with key " + key_fingerprint(stranger_keys.public_key) + both_versions),
        1u)
        << log.text();
    EXPECT_EQ(log.count("install the hostline-agent package of this controller's release"), 2u)
        << "one line per agent, saying what to do: " << log.text();
    EXPECT_EQ(log.count("dropped a message"), 0u) << log.text();
}

}  // namespace
}  // namespace hostline::transport
