#include "controller/config/controller_config.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace hostline::controller {
namespace {

class ControllerConfigTest : public ::testing::Test {
  protected:
    Result<ControllerConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_controller_config(path_);
    }
    void TearDown() override { std::remove(path_.c_str()); }
    std::string path_ =
        "/tmp/hostline-controller-config-test-" + std::to_string(::getpid()) + ".toml";
};

TEST_F(ControllerConfigTest, DefaultsWhenTheFileIsEmpty) {
    auto c = load("");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->agent_listen, "tcp://*:7420");
    EXPECT_EQ(c->http_port, 7480);
    EXPECT_EQ(c->heartbeat_ms, 5000);
    EXPECT_EQ(c->max_heartbeats_per_second, 250);
    EXPECT_EQ(c->agent_grace_ms, 300000);
}

TEST_F(ControllerConfigTest, ReadsEveryKey) {
    auto c = load(
        "[controller]\ndata_dir = \"/srv/hl\"\nagent_listen = \"tcp://0.0.0.0:9000\"\n"
        "heartbeat = \"2s\"\nagent_grace = \"1m\"\ndefault_timeout = \"30s\"\n"
        "output_cap_bytes = 4096\nmax_heartbeats_per_second = 50\n[http]\nport = 8080\n"
        "[groups]\ndbs = \"role=db\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->data_dir, "/srv/hl");
    EXPECT_EQ(c->heartbeat_ms, 2000);
    EXPECT_EQ(c->max_heartbeats_per_second, 50);
    EXPECT_EQ(c->default_timeout_ms, 30000);
    EXPECT_EQ(c->output_cap_bytes, 4096u);
    EXPECT_EQ(c->http_port, 8080);
    EXPECT_EQ(c->groups.at("dbs"), "role=db");
}

TEST_F(ControllerConfigTest, EveryProblemIsReportedWithFileKeyAndReason) {
    auto c = load(
        "[controller]\ndata_dir = \"relative\"\nheartbeat = 5\nagent_grace = \"soon\"\n"
        "[http]\nport = 70000\naddress = \"0.0.0.0\"\n[groups]\nbad = \"web-* &\"\n"
        "[controler]\nx = 1\n");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.error().message;
    EXPECT_NE(m.find(path_ + ": controller.data_dir: must be an absolute path"), std::string::npos)
        << m;
    EXPECT_NE(m.find("controller.heartbeat: must be a duration string"), std::string::npos) << m;
    EXPECT_NE(m.find("controller.agent_grace:"), std::string::npos) << m;
    EXPECT_NE(m.find("http.port: must be between 0 and 65535, not 70000"), std::string::npos) << m;
    EXPECT_NE(m.find("http.address: must be a loopback address"), std::string::npos) << m;
    EXPECT_NE(m.find("groups.bad:"), std::string::npos) << m;
    EXPECT_NE(m.find("controler: is not a known setting"), std::string::npos) << m;
}

TEST_F(ControllerConfigTest, ReadsCatalogAndChatSettings) {
    auto c = load(
        "[catalog]\ndir = \"/etc/hostline/commands.d\"\n[chat]\nprefix = \".\"\n"
        "bot_name = \"ops-bot\"\njob_url_base = \"https://ops.example/jobs/\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->catalog_dir, "/etc/hostline/commands.d");
    EXPECT_EQ(c->chat_prefix, ".");
    EXPECT_EQ(c->chat_bot_name, "ops-bot");
    EXPECT_EQ(c->job_url_base, "https://ops.example/jobs/");
    auto bad = load(
        "[catalog]\ndir = \"commands.d\"\n[chat]\nprefix = \"! \"\njob_url_base = \"ftp://x\"\n");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("catalog.dir: must be an absolute path"), std::string::npos);
    EXPECT_NE(bad.error().message.find("chat.prefix:"), std::string::npos);
    EXPECT_NE(bad.error().message.find("chat.job_url_base:"), std::string::npos);
}

TEST_F(ControllerConfigTest, ReadsThePolicyFileWhichMustBeAbsolute) {
    auto none = load("");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(none->policy_file, "") << "no policy file: deny by default";
    auto c = load("[controller]\npolicy_file = \"/etc/hostline/policy.toml\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->policy_file, "/etc/hostline/policy.toml");
    auto bad = load("[controller]\npolicy_file = \"policy.toml\"\n");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("controller.policy_file: must be an absolute path"),
              std::string::npos)
        << bad.error().message;
}

TEST_F(ControllerConfigTest, ReadsTheIrcAdapterWithItsPasswordFromAFile) {
    std::string secret = path_ + ".secret";
    std::ofstream(secret) << "hunter2\n";
    auto c = load(
        "[chat.irc]\nhost = \"irc.example.org\"\nchannels = [\"#ops\"]\n"
        "sasl_user = \"hostline\"\nsasl_password_file = \"" +
        secret +
        "\"\n"
        "messages_per_second = 0.5\n");
    std::remove(secret.c_str());
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->irc.has_value());
    EXPECT_EQ(c->irc->host, "irc.example.org");
    EXPECT_EQ(c->irc->port, 6697);
    EXPECT_TRUE(c->irc->tls);
    EXPECT_EQ(c->irc->sasl_password, "hunter2");
    EXPECT_EQ(c->irc->channels, std::vector<std::string>{"#ops"});
    EXPECT_DOUBLE_EQ(c->irc->messages_per_second, 0.5);

    auto bad = load("[chat.irc]\nchannels = [\"ops\"]\nsasl_user = \"x\"\n");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("chat.irc.host: must name the IRC server"),
              std::string::npos);
    EXPECT_NE(bad.error().message.find("'ops' is not a channel name"), std::string::npos);
    EXPECT_NE(bad.error().message.find("SASL needs both"), std::string::npos);
    EXPECT_FALSE(load("").value().irc.has_value());
}

TEST_F(ControllerConfigTest, ReadsTheSlackAdapterWithItsTokensFromAFileAndTheEnvironment) {
    const std::string token_file = path_ + ".bot";
    std::ofstream(token_file) << "xoxb-1-secret\n";
    ::setenv("HOSTLINE_TEST_SLACK_APP", "xapp-1-secret", 1);
    auto c = load(
        "[chat]\njob_url_base = \"https://hl.example/jobs/\"\n"
        "[chat.slack]\napp_token_env = \"HOSTLINE_TEST_SLACK_APP\"\n"
        "bot_token_file = \"" +
        token_file + "\"\napi_url = \"https://127.0.0.1:8443/api/\"\nca_file = \"/etc/ca.pem\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->slack.has_value());
    EXPECT_EQ(c->slack->app_token, "xapp-1-secret");
    EXPECT_EQ(c->slack->bot_token, "xoxb-1-secret");
    EXPECT_EQ(c->slack->api_url, "https://127.0.0.1:8443/api/");
    EXPECT_EQ(c->slack->ca_file, "/etc/ca.pem");
    EXPECT_EQ(c->slack->job_url_base, "https://hl.example/jobs/");
    EXPECT_FALSE(load("").value().slack.has_value());

    // Missing tokens, a token of the wrong kind, plain HTTP, a typo: each named, no secret shown.
    ::setenv("HOSTLINE_TEST_SLACK_APP", "xoxb-wrong-kind", 1);
    auto bad = load(
        "[chat.slack]\napp_token_env = \"HOSTLINE_TEST_SLACK_APP\"\n"
        "api_url = \"http://slack.example/api/\"\nbot_tokn_file = \"x\"\n");
    ASSERT_FALSE(bad.ok());
    const std::string& m = bad.error().message;
    EXPECT_NE(m.find("chat.slack: needs a bot_token: bot_token_file or bot_token_env"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("app-level token starts with xapp-"), std::string::npos) << m;
    EXPECT_NE(m.find("chat.slack.api_url: must be an https://"), std::string::npos) << m;
    EXPECT_NE(m.find("chat.slack.bot_tokn_file: is not a known setting"), std::string::npos) << m;
    EXPECT_EQ(m.find("xoxb-wrong-kind"), std::string::npos) << "a token in an error: " << m;
    ::unsetenv("HOSTLINE_TEST_SLACK_APP");
    std::remove(token_file.c_str());
}

TEST_F(ControllerConfigTest, SlacksEventsApiModeNeedsTheSigningSecretInsteadOfTheAppToken) {
    ::setenv("HOSTLINE_TEST_SLACK_BOT", "xoxb-1-secret", 1);
    ::setenv("HOSTLINE_TEST_SLACK_SIGNING", "8f74-signing-secret", 1);
    auto c = load(
        "[chat.slack]\nmode = \"events\"\nsigning_secret_env = \"HOSTLINE_TEST_SLACK_SIGNING\"\n"
        "bot_token_env = \"HOSTLINE_TEST_SLACK_BOT\"\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->slack->mode, chat::slack::SlackMode::events_api);
    EXPECT_EQ(c->slack->signing_secret, "8f74-signing-secret");
    EXPECT_EQ(c->slack->app_token, "");
    // The default is Socket Mode.
    ::setenv("HOSTLINE_TEST_SLACK_APP", "xapp-1-secret", 1);
    auto socket = load(
        "[chat.slack]\napp_token_env = \"HOSTLINE_TEST_SLACK_APP\"\n"
        "bot_token_env = \"HOSTLINE_TEST_SLACK_BOT\"\n");
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    EXPECT_EQ(socket->slack->mode, chat::slack::SlackMode::socket_mode);

    auto no_secret =
        load("[chat.slack]\nmode = \"events\"\nbot_token_env = \"HOSTLINE_TEST_SLACK_BOT\"\n");
    ASSERT_FALSE(no_secret.ok());
    EXPECT_NE(no_secret.error().message.find(
                  "needs a signing_secret: signing_secret_file or signing_secret_env"),
              std::string::npos)
        << no_secret.error().message;
    auto bad_mode = load(
        "[chat.slack]\nmode = \"webhook\"\napp_token_env = \"HOSTLINE_TEST_SLACK_APP\"\n"
        "bot_token_env = \"HOSTLINE_TEST_SLACK_BOT\"\n");
    ASSERT_FALSE(bad_mode.ok());
    EXPECT_NE(bad_mode.error().message.find("chat.slack.mode: must be \"socket\""),
              std::string::npos)
        << bad_mode.error().message;
    ::unsetenv("HOSTLINE_TEST_SLACK_BOT");
    ::unsetenv("HOSTLINE_TEST_SLACK_SIGNING");
    ::unsetenv("HOSTLINE_TEST_SLACK_APP");
}

TEST_F(ControllerConfigTest, ReadsTheTeamsAdapterWithItsSecretFromTheEnvironment) {
    ::setenv("HOSTLINE_TEST_TEAMS_SECRET", "t0p~secret", 1);
    auto c = load(
        "[chat.teams]\napp_id = \"app-1\"\napp_password_env = \"HOSTLINE_TEST_TEAMS_SECRET\"\n"
        "token_url = \"https://login.example/tenant-1/oauth2/v2.0/token\"\n"
        "ca_file = \"/etc/hostline/bf-ca.pem\"\n");
    ::unsetenv("HOSTLINE_TEST_TEAMS_SECRET");
    ASSERT_TRUE(c.ok()) << c.error().message;
    ASSERT_TRUE(c->teams.has_value());
    EXPECT_EQ(c->teams->app_id, "app-1");
    EXPECT_EQ(c->teams->app_password, "t0p~secret");
    EXPECT_EQ(c->teams->token_url, "https://login.example/tenant-1/oauth2/v2.0/token");
    EXPECT_EQ(c->teams->openid_metadata_url,
              "https://login.botframework.com/v1/.well-known/openidconfiguration");
    EXPECT_EQ(c->teams->issuer, "https://api.botframework.com");
    EXPECT_EQ(c->teams->ca_file, "/etc/hostline/bf-ca.pem");
    EXPECT_FALSE(load("").value().teams.has_value());
}

TEST_F(ControllerConfigTest, TeamsWithoutAnAppIdOrASecretOrWithAPlainUrlIsRefused) {
    auto bad =
        load("[chat.teams]\nopenid_metadata_url = \"http://login.example/meta\"\nsecret = \"x\"\n");
    ASSERT_FALSE(bad.ok());
    const std::string& why = bad.error().message;
    EXPECT_NE(why.find("chat.teams.app_id: must be the Azure Bot's Microsoft App ID"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("app_password_file or app_password_env"), std::string::npos) << why;
    EXPECT_NE(why.find("chat.teams.openid_metadata_url: must be an https:// URL"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("chat.teams.secret"), std::string::npos) << "an unknown key: " << why;

    std::string secret = path_ + ".teams-secret";
    std::ofstream(secret) << "from-the-file\n";
    auto both = load("[chat.teams]\napp_id = \"a\"\napp_password_file = \"" + secret +
                     "\"\napp_password_env = \"HOME\"\n");
    std::remove(secret.c_str());
    ASSERT_FALSE(both.ok());
    EXPECT_NE(both.error().message.find("not both"), std::string::npos) << both.error().message;
    EXPECT_EQ(both.error().message.find("from-the-file"), std::string::npos) << "secret shown";
}

TEST_F(ControllerConfigTest, SyntaxErrorsNameTheLine) {
    auto c = load("[controller]\ndata_dir = \n");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message.rfind(path_ + ":2:", 0), 0u) << c.error().message;
}

TEST_F(ControllerConfigTest, MissingFileIsAClearError) {
    auto c = load_controller_config("/nonexistent/controller.toml");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message, "/nonexistent/controller.toml: cannot read the file");
}

}  // namespace
}  // namespace hostline::controller

namespace hostline::controller {
namespace {

TEST(PackagedConfig, ControllerTomlIsValid) {
    auto c = load_controller_config(HOSTLINE_SOURCE_DIR "/packaging/controller.toml");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->data_dir, "/var/lib/hostline");
    EXPECT_EQ(c->log.deprecation, "");  // no [controller] log_level any more
}

TEST_F(ControllerConfigTest, MetricsNeedATokenUnlessMadePublic) {
    auto c = load("");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_FALSE(c->metrics_public);
    c = load("[http]\nmetrics_public = true\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(c->metrics_public);
    c = load("[http]\nmetrics_public = \"yes\"\n");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("http.metrics_public"), std::string::npos)
        << c.error().message;
}

}  // namespace
}  // namespace hostline::controller
