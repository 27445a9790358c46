// A browser scenario against a real cluster. Each TEST sets up `cluster` the way its
// scenario needs (controller, agents, policy, users), then runs one tests/browser/*.mjs file
// in headless chromium through node; the scenario's exit code is the verdict and its output
// is printed. Screenshots stay in browser-artifacts/ of the build directory for CI to keep.
// See docs/browser-tests.md.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "testing/local_cluster.hpp"

namespace hostline::testing {

class BrowserTest : public ::testing::Test {
  protected:
    void TearDown() override;

    // Creates an API token acting as identity (`hostline tokens create`) and hands it to the
    // scenario as user `name` in HOSTLINE_TOKENS; returns its secret. Needs a started
    // controller. The admin is always there as "admin".
    std::string add_user(const std::string& name, const std::string& identity);

    // Runs `node tests/browser/SCENARIO` (e.g. "smoke.mjs") against the started `cluster`
    // and fails the test unless it exits 0. Fails too, saying to run scripts/install-deps.sh,
    // when node, chromium or playwright-core is missing.
    void run_scenario(const std::string& scenario);

    // Where scenarios write screenshots: BUILD_DIR/browser-artifacts.
    static std::filesystem::path artifacts_dir();

    LocalCluster cluster;

  private:
    std::map<std::string, std::string> tokens_;  // name -> secret, beyond the admin
};

}  // namespace hostline::testing
