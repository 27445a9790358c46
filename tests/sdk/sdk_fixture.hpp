// The official SDKs against the fakes. Each TEST starts the fake it checks in-process (over
// TLS, from `ca`), then runs one tests/sdk/*.mjs script in node with the fake's URLs in its
// environment; node trusts `ca` through NODE_EXTRA_CA_CERTS. A script prints one JSON line per
// thing the SDK did or saw ({"saw": "...", ...}); the test asserts on those and on what the fake
// recorded. What is checked, and the SDKs' versions: docs/sdk-checks.md.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/test_tls.hpp"

namespace hostline::testing {

// One run of a check script.
struct CheckRun {
    int exit_code = -1;
    std::vector<nlohmann::json> lines;  // what it printed as JSON lines, in order

    // The lines whose "saw" is `what`.
    std::vector<nlohmann::json> saw(const std::string& what) const;
};

class SdkCheck : public ::testing::Test {
  protected:
    // Fails the test, saying to run scripts/install-deps.sh, when node or the SDKs are missing.
    void SetUp() override;
    // Prints every script's output (the SDKs log to stderr) when the test failed, or always
    // with HOSTLINE_SDK_VERBOSE=1 in the environment.
    void TearDown() override;

    // Runs `node tests/sdk/SCRIPT` to its end with env added to this process's environment.
    // Thread-safe, so a test can drive a fake while a script runs (start_check).
    CheckRun run_check(const std::string& script, const std::map<std::string, std::string>& env);
    std::future<CheckRun> start_check(const std::string& script,
                                      std::map<std::string, std::string> env);

    TestCa ca;

  private:
    std::mutex mutex_;
    std::vector<std::string> transcripts_;  // guarded by mutex_
};

}  // namespace hostline::testing
