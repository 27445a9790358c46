// What the agent says when the controller speaks another protocol version.
#include "agent/version_refusal.hpp"

#include <gtest/gtest.h>

namespace hostline::agent {
namespace {

const std::string kAgent = "this agent (hostline-agent " HOSTLINE_VERSION ")";

TEST(VersionRefusal, ANewerControllerAsksForTheAgentPackageOfItsRelease) {
    EXPECT_EQ(
        version_refusal(proto::ErrorReply{"version", "protocol version 1 is not supported", 2},
                        "tcp://ctl:7420"),
        "the controller at tcp://ctl:7420 speaks protocol version 2 and " + kAgent +
            " version 1: install the hostline-agent package of the controller's release on "
            "this host");
}

TEST(VersionRefusal, AControllerThatDoesNotSayItsVersionIsQuoted) {
    EXPECT_EQ(version_refusal(proto::ErrorReply{"version", "go away", 0}, "tcp://ctl:7420"),
              "the controller at tcp://ctl:7420 does not accept protocol version 1, which " +
                  kAgent +
                  " speaks (it said: go away): install the hostline-agent package of the "
                  "controller's release on this host");
}

}  // namespace
}  // namespace hostline::agent
