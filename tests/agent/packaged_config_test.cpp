// The example configs shipped in packaging/ must stay valid as the readers change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/agent_config.hpp"

namespace hostline::agent {
namespace {

std::string packaged_agent_toml() {
    std::ifstream in(HOSTLINE_SOURCE_DIR "/packaging/agent.toml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The conffile is what `apt install` puts in /etc/hostline/agent.toml; `hostline-agent
// enroll` keeps the controller in the state directory and must never have to rewrite it.
TEST(PackagedConfig, AgentTomlLeavesTheControllerToEnrollment) {
    std::istringstream lines(packaged_agent_toml());
    for (std::string line; std::getline(lines, line);)
        EXPECT_NE(line.rfind("[controller]", 0), 0u) << "a [controller] section: " << line;
}

TEST(PackagedConfig, AgentTomlWithAControllerReadsWithThePackagedDefaults) {
    const std::string path = "/tmp/hostline-packaged-agent-" + std::to_string(::getpid()) + ".toml";
    std::ofstream(path) << packaged_agent_toml()
                        << "\n[controller]\nendpoint = \"tcp://ctl.example:7420\"\n"
                           "public_key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n";
    auto c = load_agent_config(path);
    std::remove(path.c_str());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->state_dir, "/var/lib/hostline-agent");
    EXPECT_EQ(c->capacity, 4u);
    EXPECT_EQ(c->controller_endpoint, "tcp://ctl.example:7420");
}

}  // namespace
}  // namespace hostline::agent
