// The controller's transport over real ZeroMQ and CURVE, with a test DEALER as the agent.
#include "common/transport/router_thread.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "common/proto/codec.hpp"

namespace hostline::transport {
namespace {

using namespace std::chrono_literals;

class FixedKeys : public KeyAuthority {
  public:
    explicit FixedKeys(std::map<std::string, std::string> names) : names_(std::move(names)) {}
    std::optional<std::string> agent_for_key(const std::string& key) override {
        auto it = names_.find(key);
        if (it == names_.end()) return std::nullopt;
        return it->second;
    }

  private:
    std::map<std::string, std::string> names_;
};

class RouterThreadTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server_ = *generate_key_pair();
        client_ = *generate_key_pair();
        keys_ = std::make_unique<FixedKeys>(
            std::map<std::string, std::string>{{client_.public_key, "web-01"}});
        router_ = std::make_unique<RouterThread>("tcp://127.0.0.1:*", server_, *keys_);
        auto started = router_->start({[this](const std::string& agent, proto::Message m) {
            std::lock_guard lock(mutex_);
            received_.emplace_back(agent, std::move(m));
            arrived_.notify_all();
        }});
        ASSERT_TRUE(started.ok()) << started.error().message;
    }
    void TearDown() override { router_->stop(); }

    zmq::socket_t agent(const std::string& name, const CurveKeyPair& keys) {
        zmq::socket_t s(context_, zmq::socket_type::dealer);
        s.set(zmq::sockopt::routing_id, name);
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

TEST_F(RouterThreadTest, UnknownKeyIsRefusedAtTheHandshake) {
    CurveKeyPair stranger = *generate_key_pair();
    zmq::socket_t s = agent("web-09", stranger);
    send(s, proto::encode(proto::Heartbeat{1}));
    EXPECT_FALSE(wait_received(1, 1s));
    EXPECT_FALSE(receive(s, 200ms).has_value());
}

TEST_F(RouterThreadTest, AKeyClaimingAnotherAgentsNameIsDropped) {
    zmq::socket_t impostor = agent("db-01", client_);  // the key belongs to web-01
    send(impostor, proto::encode(proto::Heartbeat{1}));
    EXPECT_FALSE(wait_received(1, 1s));
}

TEST_F(RouterThreadTest, SendingToAnAgentThatIsNotConnectedIsDroppedQuietly) {
    router_->send("nobody", proto::Welcome{"ctl", 5000});
    zmq::socket_t a = agent("web-01", client_);
    send(a, proto::encode(proto::Heartbeat{1}));
    EXPECT_TRUE(wait_received(1));
}

}  // namespace
}  // namespace hostline::transport
