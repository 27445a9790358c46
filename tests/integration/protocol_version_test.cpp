// Agents and controllers of different protocol versions (docs/protocol.md, "Versions"): each
// side refuses the other clearly, once per agent in the controller's log and with both versions
// and what to install in the agent's, and the agent asks again once a minute rather than at
// the heartbeat pace.
//
// The other side is played: a raw DEALER with CURVE speaking version 2 against the real
// controller; against the real agent, a ROUTER (the controller's own transport, RouterThread)
// that refuses its version, or answers in version 2.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/proto/codec.hpp"
#include "common/transport/curve_keys.hpp"
#include "common/transport/router_thread.hpp"
#include "integration/cluster_test.hpp"
#include "notify_socket.hpp"
#include "raw_agent.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

// msgpack writes `"v": 1` as the fixstr "v" and the positive fixint 1: patch that byte.
std::string in_version(std::string frame, int version) {
    frame[frame.find("\xa1v") + 2] = static_cast<char>(version);
    return frame;
}

std::size_t count_lines(const std::string& log, const std::string& text) {
    std::size_t n = 0;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) n += line.find(text) != std::string::npos;
    return n;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(100ms);
    }
    return pred();
}

class ProtocolVersions : public ClusterTest {};

TEST_F(ProtocolVersions, TheControllerRefusesAnAgentOfAnotherVersionWithOneLinePerAgent) {
    cluster.start_controller();
    cluster.add_agent("good-01");
    auto known_keys = *transport::generate_key_pair();
    cluster.accept_agent_key("future-01", known_keys.public_key);
    auto stranger_keys = *transport::generate_key_pair();
    cluster.wait_online({"good-01"});

    RawAgent known(cluster.agent_endpoint(), cluster.controller_public_key(), known_keys);
    RawAgent stranger(cluster.agent_endpoint(), cluster.controller_public_key(), stranger_keys);
    proto::Hello hello;
    hello.agent_id = "future-01";
    hello.version = "9.0.0";
    for (int i = 0; i < 5; ++i) {
        for (RawAgent* peer : {&known, &stranger}) {
            peer->send_frame(in_version(proto::encode(hello), 2));
            auto refusal = peer->take<proto::ErrorReply>(5s);
            ASSERT_TRUE(refusal.has_value()) << "no answer to a hello of version 2";
            EXPECT_EQ(refusal->code, "version");
            EXPECT_EQ(refusal->speaks, 1u) << "the controller says which version it speaks";
            EXPECT_EQ(refusal->message, "protocol version 2 is not supported (this side speaks 1)");
        }
    }

    const std::string what =
        " speaks protocol version 2 and this controller version 1: refused "
        "until the two run matching releases (install the hostline-agent "
        "package of this controller's release on that host, or upgrade the "
        "controller)";
    const std::string known_line =
        "agent future-01 (key " + transport::key_fingerprint(known_keys.public_key) + ")" + what;
    const std::string stranger_line =
        "an agent with key " + transport::key_fingerprint(stranger_keys.public_key) + what;
    EXPECT_TRUE(
        eventually([&] { return count_lines(cluster.controller_log(), stranger_line) == 1; }, 5s));
    const std::string log = cluster.controller_log();
    EXPECT_EQ(count_lines(log, known_line), 1u) << "one line for five refusals";
    EXPECT_EQ(count_lines(log, stranger_line), 1u);
    EXPECT_EQ(count_lines(log, "dropped a message"), 0u) << "not logged as garbage too";

    int exit_code = -1;
    cluster.cli_json({"run", "--on", "good-01", "--", "true"}, &exit_code);
    EXPECT_EQ(exit_code, 0) << "the agents of this version go on";
}

// A controller of protocol version 2, played by the controller's own transport: it takes
// every key as the agent "played", answers each hello with `answer` (a frame of version 2) and
// counts what the agent sends.
class PlayedController {
  public:
    explicit PlayedController(std::string answer)
        : keys_(*transport::generate_key_pair()),
          answer_(std::move(answer)),
          router_("tcp://127.0.0.1:*", keys_, everyone_) {
        auto started =
            router_.start({[this](const std::string& agent, const std::string&, proto::Message m) {
                               ++received_;
                               if (std::holds_alternative<proto::Hello>(m)) {
                                   ++hellos_;
                                   router_.send_encoded(agent, answer_);
                               }
                           },
                           [](const transport::Stranger&, proto::Message) {}});
        if (!started) throw std::runtime_error(started.error().message);
    }

    const std::string& endpoint() const { return router_.endpoint(); }
    const std::string& public_key() const { return keys_.public_key; }
    int received() const { return received_; }
    int hellos() const { return hellos_; }

  private:
    struct Everyone : transport::KeyAuthority {
        transport::KeyStatus status_of(const std::string&) override {
            return {transport::KeyStatus::State::accepted, "played"};
        }
    };

    const transport::CurveKeyPair keys_;
    const std::string answer_;
    Everyone everyone_;
    std::atomic<int> received_{0};
    std::atomic<int> hellos_{0};
    transport::RouterThread router_;  // last: its thread calls the members above
};

class AgentAgainstAnotherVersion : public ProtocolVersions {
  protected:
    // Starts hostline-agent against the played controller, with systemd's notify socket.
    void start_agent(const PlayedController& controller) {
        const std::string dir = cluster.dir() + "/agent";
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/agent.toml")
            << "[agent]\nname = \"old-01\"\nstate_dir = \"" << dir << "/state\"\n[controller]\n"
            << "endpoint = \"" << controller.endpoint() << "\"\npublic_key = \""
            << controller.public_key() << "\"\n";
        cluster.start_agent("old-01", dir + "/agent.toml");
    }

    // What the agent must say, in its log and its status, and that it then stays quiet for
    // longer than two heartbeats (5 s each) instead of saying hello again.
    void expect_clear_refusal_and_slow_retries(const PlayedController& controller,
                                               NotifySocket& systemd) {
        const std::string refusal = "the controller at " + controller.endpoint() +
                                    " speaks protocol version 2 and this agent (hostline-agent " +
                                    HOSTLINE_VERSION +
                                    ") version 1: install the hostline-agent package of the "
                                    "controller's release on this host";
        ASSERT_TRUE(eventually(
            [&] { return cluster.agent_log("old-01").find(refusal) != std::string::npos; }, 15s))
            << cluster.agent_log("old-01");
        EXPECT_EQ(count_lines(cluster.agent_log("old-01"), " error "), 1u)
            << "an error, logged once: " << cluster.agent_log("old-01");
        EXPECT_NE(cluster.agent_log("old-01").find(refusal + "; asking again every 60 s"),
                  std::string::npos);
        EXPECT_EQ(systemd.wait_for("refused", 5s), "STATUS=refused: " + refusal);
        EXPECT_FALSE(systemd.wait_for("READY=1", 0ms).empty()) << "the unit started all the same";

        std::this_thread::sleep_for(11s);
        EXPECT_EQ(controller.hellos(), 1) << "no new hello within 11 s";
        EXPECT_EQ(controller.received(), 1) << "nor heartbeats";
    }
};

TEST_F(AgentAgainstAnotherVersion, ARefusalOfItsVersionIsNamedAndAskedAgainSlowly) {
    PlayedController controller(
        in_version(proto::encode(proto::ErrorReply{
                       "version", "protocol version 1 is not supported (this side speaks 2)", 2}),
                   2));
    NotifySocket systemd(cluster.dir() + "/notify.sock");
    start_agent(controller);
    expect_clear_refusal_and_slow_retries(controller, systemd);
}

TEST_F(AgentAgainstAnotherVersion, AControllerAnsweringInAnotherVersionIsNamedAndAskedAgainSlowly) {
    PlayedController controller(in_version(proto::encode(proto::Welcome{"ctl-v2", 5000}), 2));
    NotifySocket systemd(cluster.dir() + "/notify.sock");
    start_agent(controller);
    expect_clear_refusal_and_slow_retries(controller, systemd);
}

}  // namespace
}  // namespace hostline::testing
