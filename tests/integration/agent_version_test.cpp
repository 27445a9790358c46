// `hostline-agent --version`: what an operator (and the package test) checks after an upgrade.
#include <gtest/gtest.h>

#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

TEST(AgentVersion, PrintsTheReleaseAndExitsWithoutAConfig) {
    LocalCluster cluster;
    CommandResult r = run_command({cluster.bin("hostline-agent"), "--version", "--config",
                                   cluster.dir() + "/no-such-agent.toml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("hostline-agent ") + HOSTLINE_VERSION + "\n");
    EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace hostline::testing
