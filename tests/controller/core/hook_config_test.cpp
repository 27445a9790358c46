// [hooks.NAME] in controller.toml: what is read, and every mistake named with file and key.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "controller/catalog/catalog.hpp"
#include "controller/config/controller_config.hpp"
#include "controller/hooks/hook_service.hpp"

namespace hostline::controller {
namespace {

class HookConfigTest : public ::testing::Test {
  protected:
    void SetUp() override { std::ofstream(secret_) << "hook-secret\n"; }
    void TearDown() override {
        std::remove(path_.c_str());
        std::remove(secret_.c_str());
    }
    Result<ControllerConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_controller_config(path_);
    }
    std::string path_ = "/tmp/hostline-hook-config-test-" + std::to_string(::getpid()) + ".toml";
    std::string secret_ = "/tmp/hostline-hook-secret-" + std::to_string(::getpid());
};

TEST_F(HookConfigTest, ReadsPostAndRunHooks) {
    ::setenv("HOSTLINE_TEST_HOOK_SECRET", "from-env", 1);
    auto c = load("[hooks.github-push]\nsecret_file = \"" + secret_ +
                  "\"\npost = { channel = \"irc:#ops\", text = \"{{pusher.name}} pushed\" }\n"
                  "[hooks.ci]\nsecret_env = \"HOSTLINE_TEST_HOOK_SECRET\"\nsignature = \"header\"\n"
                  "header = \"X-Signature\"\nprefix = \"sha256=\"\ntimestamp_header = \"X-Ts\"\n"
                  "run = { command = \"deploy\", identity = \"webhook:ci\", target = \"role=web\", "
                  "params = { ref = \"{{ref}}\" } }\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_EQ(c->hooks.size(), 2u);
    const HookSpec& ci = c->hooks[0];  // tables come back in name order
    EXPECT_EQ(ci.name, "ci");
    EXPECT_EQ(ci.secret, "from-env");
    EXPECT_EQ(ci.signature, HookSignature::header);
    EXPECT_EQ(ci.prefix, "sha256=");
    EXPECT_EQ(ci.timestamp_header, "X-Ts");
    ASSERT_TRUE(ci.run.has_value());
    EXPECT_EQ(ci.run->identity, "webhook:ci");
    EXPECT_EQ(ci.run->params.at("ref"), "{{ref}}");
    const HookSpec& gh = c->hooks[1];
    EXPECT_EQ(gh.secret, "hook-secret") << "the first line, without its newline";
    EXPECT_EQ(gh.signature, HookSignature::github);
    ASSERT_TRUE(gh.post.has_value());
    EXPECT_EQ(gh.post->channel, "irc:#ops");
}

TEST_F(HookConfigTest, EveryMistakeIsNamedWithFileAndKey) {
    ::unsetenv("HOSTLINE_TEST_HOOK_UNSET");
    auto c = load("[hooks.Bad_Name]\nsecret_file = \"" + secret_ +
                  "\"\npost = { channel = \"irc:#ops\", text = \"x\" }\n"
                  "[hooks.no-secret]\npost = { channel = \"irc:#ops\", text = \"x\" }\n"
                  "[hooks.unset-env]\nsecret_env = \"HOSTLINE_TEST_HOOK_UNSET\"\n"
                  "post = { channel = \"irc:#ops\", text = \"x\" }\n"
                  "[hooks.both]\nsecret_file = \"" +
                  secret_ +
                  "\"\npost = { channel = \"irc:#ops\", text = \"x\" }\n"
                  "run = { command = \"c\", identity = \"webhook:x\" }\n"
                  "[hooks.bad-template]\nsecret_file = \"" +
                  secret_ +
                  "\"\npost = { channel = \"ops\", text = \"{{unclosed\" }\n"
                  "[hooks.bad-header]\nsecret_file = \"" +
                  secret_ +
                  "\"\nsignature = \"header\"\nrun = { command = \"c\", identity = \"nobody\" }\n"
                  "[hooks.typo]\nsecret_file = \"" +
                  secret_ +
                  "\"\nsignatur = \"github\"\npost = { channel = \"irc:#ops\", txt = \"x\" }\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    const auto has = [&](const std::string& part) {
        return m.find(path_ + ": " + part) != std::string::npos;
    };
    EXPECT_TRUE(has("hooks.Bad_Name: a hook name is lowercase letters")) << m;
    EXPECT_TRUE(has("hooks.no-secret: needs a secret: secret_file or secret_env")) << m;
    EXPECT_TRUE(has("hooks.unset-env.secret_env: $HOSTLINE_TEST_HOOK_UNSET is not set or empty"))
        << m;
    EXPECT_TRUE(has("hooks.both: needs exactly one of post and run")) << m;
    EXPECT_TRUE(has("hooks.bad-template.post.channel: must be a chat source")) << m;
    EXPECT_TRUE(has("hooks.bad-template.post.text: '{{' without '}}' in the template")) << m;
    EXPECT_TRUE(has("hooks.bad-header.header: a header hook names its signature header")) << m;
    EXPECT_TRUE(has("hooks.bad-header.run.identity: must be an identity")) << m;
    EXPECT_TRUE(has("hooks.typo.signatur: unknown key")) << m;
    EXPECT_TRUE(has("hooks.typo.post.txt: unknown key")) << m;
    EXPECT_EQ(m.find("hook-secret"), std::string::npos) << "a secret is never shown";
}

TEST_F(HookConfigTest, AnEmptySecretFileIsAnError) {
    std::ofstream(secret_) << "\n";
    auto c = load("[hooks.gh]\nsecret_file = \"" + secret_ +
                  "\"\npost = { channel = \"irc:#ops\", text = \"x\" }\n");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("hooks.gh.secret_file: " + secret_ + " is empty"),
              std::string::npos)
        << c.error().message;
}

}  // namespace
}  // namespace hostline::controller

namespace hostline::controller {
namespace {

TEST(CheckHooks, RunHooksMustNameACatalogCommandAndItsParams) {
    const std::string dir = "/tmp/hostline-hook-catalog-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/deploy.toml")
        << "[[command]]\nname = \"deploy\"\nsummary = \"Deploy\"\nrun = [\"echo\", \"{ref}\"]\n"
           "[[command.param]]\nname = \"ref\"\ntype = \"string\"\nrequired = true\n";
    auto catalog = Catalog::load(dir);
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;

    const auto run_hook = [](std::string name, std::string command,
                             std::map<std::string, std::string> params) {
        HookSpec hook;
        hook.name = std::move(name);
        hook.run = HookRun{std::move(command), "webhook:ci", "", std::move(params)};
        return hook;
    };
    HookSpec post;
    post.name = "gh";
    post.post = HookPost{"irc:#ops", "x"};

    EXPECT_TRUE(
        check_hooks({run_hook("ok", "deploy", {{"ref", "{{ref}}"}}), post}, *catalog, true).ok());
    auto bad = check_hooks({run_hook("missing", "deploi", {}),
                            run_hook("typo", "deploy", {{"reff", "{{ref}}"}}), post},
                           *catalog, false);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message,
              "hooks.missing.run.command: the catalog has no command 'deploi'\n"
              "hooks.typo.run.params.reff: deploy has no such param; it takes ref\n"
              "hooks.gh.post.channel: irc:#ops is on IRC, and [chat.irc] is not configured");
}

}  // namespace
}  // namespace hostline::controller
