#include "browser/browser_fixture.hpp"
#include "testing/program_path.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostline::testing {
namespace {

namespace fs = std::filesystem;

// node (and the scenario's own timeout, 90 s) end well before this; it only guards against a
// node that hangs past its own deadline.
constexpr auto kScenarioTimeout = std::chrono::seconds(120);
const char* const kInstallHint =
    "; run scripts/install-deps.sh (it installs chromium, and "
    "playwright-core into tests/browser/node_modules)";

const fs::path kBrowserDir = fs::path(HOSTLINE_SOURCE_DIR) / "tests" / "browser";

std::string chromium_path() {
    const char* path = std::getenv("HOSTLINE_CHROMIUM");
    return path && *path ? path : "/usr/bin/chromium";
}

// Screenshots of an earlier run of this scenario, which would pass for this run's.
void remove_old_screenshots(const fs::path& dir, const std::string& scenario_name) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string file = entry.path().filename();
        if (file.starts_with(scenario_name + "-") && file.ends_with(".png"))
            fs::remove(entry.path(), ec);
    }
}

}  // namespace

fs::path BrowserTest::artifacts_dir() {
    return HOSTLINE_BROWSER_ARTIFACTS;
}

void BrowserTest::TearDown() {
    if (HasFailure()) {
        cluster.keep_dir();
        std::fprintf(stderr, "%s", cluster.logs().c_str());
    }
}

std::string BrowserTest::add_user(const std::string& name, const std::string& identity) {
    CommandResult created = cluster.cli({"tokens", "create", name, "--identity", identity});
    if (created.exit_code != 0) {
        ADD_FAILURE() << "hostline tokens create " << name << " failed: " << created.err;
        return {};
    }
    std::string secret = created.out.substr(0, created.out.find('\n'));
    tokens_[name] = secret;
    return secret;
}

void BrowserTest::run_scenario(const std::string& scenario,
                               const std::map<std::string, std::string>& env) {
    const fs::path script = kBrowserDir / scenario;
    ASSERT_TRUE(fs::exists(script)) << "no scenario " << script;
    const std::string node = find_on_path("node");
    ASSERT_FALSE(node.empty()) << "node is not on PATH" << kInstallHint;
    ASSERT_EQ(::access(chromium_path().c_str(), X_OK), 0)
        << "no chromium at " << chromium_path() << kInstallHint;
    ASSERT_TRUE(fs::exists(kBrowserDir / "node_modules" / "playwright-core" / "package.json"))
        << "playwright-core is not installed in " << kBrowserDir / "node_modules" << kInstallHint;
    ASSERT_FALSE(cluster.http_url().empty()) << "start the cluster's controller first";

    std::error_code ec;
    fs::create_directories(artifacts_dir(), ec);
    ASSERT_FALSE(ec) << "cannot create " << artifacts_dir() << ": " << ec.message();
    remove_old_screenshots(artifacts_dir(), script.stem());

    // The scenario's inputs go through env(1), so this process's environment stays as it is.
    std::vector<std::string> argv{
        "/usr/bin/env",
        "HOSTLINE_URL=" + cluster.http_url(),
        "HOSTLINE_ADMIN_TOKEN=" + cluster.admin_secret(),
        "HOSTLINE_TOKENS=" + nlohmann::json(tokens_).dump(),
        "HOSTLINE_ARTIFACTS=" + artifacts_dir().string(),
        "HOSTLINE_CHROMIUM=" + chromium_path(),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1",
    };
    for (const auto& [name, value] : env) argv.push_back(name + "=" + value);
    argv.push_back(node);
    argv.push_back(script.string());
    const auto started = std::chrono::steady_clock::now();
    CommandResult result = run_command(argv, kScenarioTimeout);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    std::printf("--- %s (%lld ms, exit %d) ---\n%s%s--- end of %s ---\n", scenario.c_str(),
                static_cast<long long>(took.count()), result.exit_code, result.out.c_str(),
                result.err.c_str(), scenario.c_str());
    std::fflush(stdout);
    EXPECT_EQ(result.exit_code, 0) << scenario << " failed (its output is above; screenshots in "
                                   << artifacts_dir().string() << ")";
}

}  // namespace hostline::testing
