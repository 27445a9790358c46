// The Slack payloads of tests/chat/fixtures/slack (copied from the official SDKs' tests), read
// from the source tree.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace hostline::chat::slack::testing {

inline std::string fixture(const std::string& relative_path) {
    const std::string path =
        std::string(HOSTLINE_SOURCE_DIR) + "/tests/chat/fixtures/slack/" + relative_path;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << path;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace hostline::chat::slack::testing
