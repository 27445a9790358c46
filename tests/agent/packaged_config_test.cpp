// The example configs shipped in packaging/ must stay valid as the readers change.
#include <gtest/gtest.h>

#include "agent/agent_config.hpp"

namespace hostline::agent {
namespace {

TEST(PackagedConfig, AgentTomlReadsExceptForTheKeyFileItPointsAt) {
    auto c = load_agent_config(HOSTLINE_SOURCE_DIR "/packaging/agent.toml");
    ASSERT_FALSE(c.ok());  // /etc/hostline/controller.pub does not exist here
    EXPECT_NE(c.error().message.find("controller.public_key_file"), std::string::npos)
        << c.error().message;
    EXPECT_EQ(c.error().message.find("\n"), std::string::npos)
        << "only that one problem: " << c.error().message;
}

}  // namespace
}  // namespace hostline::agent
