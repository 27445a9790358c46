#include "sdk/sdk_fixture.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "testing/local_cluster.hpp"
#include "testing/program_path.hpp"

namespace hostline::testing {
namespace {

namespace fs = std::filesystem;

// Each script ends itself after 20 s; this only guards against a node that hangs past that.
constexpr auto kScriptTimeout = std::chrono::seconds(40);
const char* const kInstallHint =
    "; run scripts/install-deps.sh (it runs npm ci in tests/sdk, pinned by package-lock.json)";
const fs::path kSdkDir = fs::path(HOSTLINE_SOURCE_DIR) / "tests" / "sdk";

}  // namespace

std::vector<nlohmann::json> CheckRun::saw(const std::string& what) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : lines)
        if (line.value("saw", "") == what) out.push_back(line);
    return out;
}

void SdkCheck::SetUp() {
    ASSERT_FALSE(find_on_path("node").empty()) << "node is not on PATH" << kInstallHint;
    for (const char* package :
         {"@slack/socket-mode", "@slack/web-api", "botframework-connector", "@azure/msal-node"}) {
        ASSERT_TRUE(fs::exists(kSdkDir / "node_modules" / package / "package.json"))
            << package << " is not installed in " << kSdkDir / "node_modules" << kInstallHint;
    }
}

void SdkCheck::TearDown() {
    const char* verbose = std::getenv("HOSTLINE_SDK_VERBOSE");
    if (!HasFailure() && !(verbose && *verbose)) return;
    std::lock_guard lock(mutex_);
    for (const auto& transcript : transcripts_) std::fprintf(stderr, "%s", transcript.c_str());
}

CheckRun SdkCheck::run_check(const std::string& script,
                             const std::map<std::string, std::string>& env) {
    // The inputs go through env(1), so this process's environment stays as it is.
    std::vector<std::string> argv{"/usr/bin/env", "NODE_EXTRA_CA_CERTS=" + ca.ca_file()};
    for (const auto& [name, value] : env) argv.push_back(name + "=" + value);
    argv.push_back(find_on_path("node"));
    argv.push_back((kSdkDir / script).string());

    const auto started = std::chrono::steady_clock::now();
    CommandResult result = run_command(argv, kScriptTimeout);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);

    CheckRun run;
    run.exit_code = result.exit_code;
    std::istringstream out(result.out);
    for (std::string line; std::getline(out, line);) {
        auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (parsed.is_object()) run.lines.push_back(std::move(parsed));
    }
    std::ostringstream transcript;
    transcript << "--- " << script << " (" << took.count() << " ms, exit " << result.exit_code
               << ") ---\n"
               << result.out << result.err << "--- end of " << script << " ---\n";
    std::lock_guard lock(mutex_);
    transcripts_.push_back(transcript.str());
    return run;
}

std::future<CheckRun> SdkCheck::start_check(const std::string& script,
                                            std::map<std::string, std::string> env) {
    return std::async(std::launch::async,
                      [this, script, env = std::move(env)] { return run_check(script, env); });
}

}  // namespace hostline::testing
