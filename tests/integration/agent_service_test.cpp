// What the agent tells systemd (its unit is Type=notify), read from a NOTIFY_SOCKET the test
// binds: ready once it is connecting, even with its controller down; the link's status as it
// changes (connected, waiting for an admin, controller unreachable); stopping on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "integration/cluster_test.hpp"
#include "notify_socket.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

class AgentService : public ClusterTest {};

TEST_F(AgentService, AnAgentIsReadyWhileItsControllerIsDownAndSaysWhenItStops) {
    // A controller that does not run: a free port nobody listens on.
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_tcp_port());
    const std::string dir = cluster.dir() + "/lonely";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/agent.toml")
        << "[agent]\nname = \"lonely\"\nstate_dir = \"" << dir
        << "/state\"\n[controller]\nendpoint = \"" << endpoint << "\"\npublic_key = \""
        << cluster.controller_public_key() << "\"\n";
    NotifySocket systemd(cluster.dir() + "/notify.sock");
    cluster.start_agent("lonely", dir + "/agent.toml");

    std::string ready = systemd.wait_for("READY=1", 15s);
    EXPECT_NE(ready.find("STATUS=connecting to " + endpoint + " (key SHA256:"), std::string::npos)
        << "ready without a controller: " << ready;

    cluster.stop_agent("lonely");
    EXPECT_EQ(systemd.wait_for("STOPPING=1", 5s), "STOPPING=1\nSTATUS=stopping");
}

TEST_F(AgentService, TheStatusFollowsTheLinkToTheController) {
    cluster.start_controller();
    NotifySocket systemd(cluster.dir() + "/notify.sock");
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});
    EXPECT_EQ(systemd.wait_for("connected", 10s),
              "STATUS=connected to " + cluster.agent_endpoint() + " as a1");

    cluster.add_agent("newcomer", {.accepted = false});
    std::string waiting = systemd.wait_for("waiting for an admin", 15s);
    EXPECT_NE(waiting.find("STATUS=waiting for an admin to accept key SHA256:"), std::string::npos)
        << waiting;
    EXPECT_NE(waiting.find("(hostline agents accept newcomer)"), std::string::npos) << waiting;

    cluster.stop_controller();
    std::string lost = systemd.wait_for("unreachable", 30s);
    EXPECT_NE(lost.find("STATUS=controller " + cluster.agent_endpoint() + " unreachable since "),
              std::string::npos)
        << lost;
    EXPECT_NE(lost.find(" UTC"), std::string::npos) << lost;
}

}  // namespace
}  // namespace hostline::testing
