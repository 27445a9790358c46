// The browser scenarios, one TEST each: the cluster its scenario needs, then the scenario.
#include <filesystem>

#include "browser/browser_fixture.hpp"

namespace hostline::testing {
namespace {

// The harness itself, without the UI: chromium reaches the controller, a screenshot is kept,
// and the guards against script errors and alert() report what they should.
TEST_F(BrowserTest, Smoke) {
    cluster.start_controller();
    run_scenario("smoke.mjs");
    EXPECT_TRUE(std::filesystem::exists(artifacts_dir() / "smoke-healthz.png"))
        << "no screenshot in " << artifacts_dir();
}

}  // namespace
}  // namespace hostline::testing
