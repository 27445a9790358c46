// Chat end to end: the real controller binary connected to a real ngircd with [chat.irc], two
// real agents, and a test client in the channel acting as a person. Everything asserted is
// what that person sees in the channel (or, for stored output, what the CLI shows).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "chat/irc_test_peers.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using chat::irc::test_peers::IrcUser;
using chat::irc::test_peers::Ngircd;

constexpr const char* kChannel = "#ops";
constexpr const char* kBot = "hostline";

// The shipped example catalog, plus commands whose output the test controls.
constexpr const char* kTestCommands = R"toml(
[[command]]
name = "count"
summary = "Count to three, slowly"
run = ["sh", "-c", "for i in 1 2 3; do echo \"line $i from $HOSTLINE_AGENT\"; sleep $0; done",
       "{pause}"]
targets = "role=web"

[[command.param]]
name = "pause"
type = "string"
pattern = "^[0-9]+(\\.[0-9]+)?$"
default = "0.3"
help = "seconds between lines"

[[command]]
name = "flood"
summary = "Print N numbered lines"
run = ["seq", "1", "{n}"]

[[command.param]]
name = "n"
type = "int"
min = 1
max = 100000
required = true
help = "how many lines"
)toml";

class IrcChat : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(Ngircd::installed())
            << "ngircd is missing: scripts/install-deps.sh installs it";
        ASSERT_TRUE(ircd.start());

        const std::string catalog = cluster.dir() + "/commands.d";
        std::filesystem::copy(std::string(HOSTLINE_SOURCE_DIR) + "/examples/commands.d", catalog,
                              std::filesystem::copy_options::recursive);
        std::ofstream(catalog + "/test.toml") << kTestCommands;
        cluster.add_controller_config("[catalog]\ndir = \"" + catalog +
                                      "\"\n"
                                      "[chat]\njob_url_base = \"http://hostline.test/jobs/\"\n"
                                      "[chat.irc]\nhost = \"127.0.0.1\"\nport = " +
                                      std::to_string(ircd.port()) +
                                      "\ntls = false\nnick = \"hostline\"\n"
                                      "channels = [\"#ops\"]\n"
                                      "messages_per_second = 20\nburst = 20\n");
        // Everyone on this IRC network is an admin: these tests are about the chat.
        cluster.set_policy("[groups.everyone]\nmembers = [\"irc:*\"]\nroles = [\"admin\"]\n");
        cluster.start_controller();
        cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
        cluster.add_agent("web-2", {.labels = {{"role", "web"}}});
        cluster.wait_online({"web-1", "web-2"});

        user = std::make_unique<IrcUser>(ircd.port(), "alice");
        ASSERT_TRUE(user->log_in());
        ASSERT_TRUE(user->join(kChannel));
        ASSERT_TRUE(user->see_join(kBot, kChannel, 20s)) << "the bot never joined " << kChannel;
    }

    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
            if (user) {
                std::fprintf(stderr, "--- what alice saw in %s ---\n", kChannel);
                for (const auto& m : user->messages())
                    std::fprintf(stderr, "<%s> %s\n", m.from.c_str(), m.text.c_str());
            }
        }
    }

    void say(const std::string& text) { user->send(std::string("PRIVMSG #ops :") + text); }

    // The bot's next message in the channel containing part ("" on timeout).
    std::string bot_says(const std::string& part, std::chrono::seconds timeout = 20s) {
        return user->wait_for_message(kBot, kChannel, part, timeout).value_or("");
    }

    // Every byte the job stored, as `hostline job ID --output` shows it.
    std::string stored_output(long id) {
        auto doc = cluster.cli_json({"job", std::to_string(id), "--output"});
        std::string all;
        for (const auto& item : doc.value("output", nlohmann::json::array()))
            all += item.value("data", "");
        return all;
    }

    // The job number in an acknowledgement "job #N on ...".
    static long job_id_in(const std::string& ack) {
        auto at = ack.find("job #");
        return at == std::string::npos ? 0 : std::stol(ack.substr(at + 5));
    }

    Ngircd ircd;
    LocalCluster cluster;
    std::unique_ptr<IrcUser> user;
};

TEST_F(IrcChat, HelpAndHostsAnswerInTheChannel) {
    say("!help");  // one line per command, in order
    EXPECT_NE(bot_says("Commands:"), "");
    EXPECT_NE(bot_says("!count — Count to three, slowly"), "");
    EXPECT_NE(bot_says("!uptime — How long the host has been up"), "") << "the shipped catalog";
    EXPECT_NE(bot_says("Built-in:"), "");
    EXPECT_NE(bot_says("!history — your own latest jobs"), "");

    say("!help flood");
    EXPECT_NE(bot_says("!flood N"), "");
    EXPECT_NE(bot_says("n: how many lines"), "");
    EXPECT_NE(bot_says("example: !flood 1 --on web-1"), "") << "made up, on a real host";
    say("!help tail-log");
    EXPECT_NE(bot_says("example: !tail-log /var/log/syslog --lines 100 --on web-01"), "")
        << "the shipped catalog's own example";

    say("!hosts");
    EXPECT_NE(bot_says("2 host(s), 2 online:"), "");
    EXPECT_NE(bot_says("web-1  online  role=web"), "");
    EXPECT_NE(bot_says("web-2  online  role=web"), "");
}

TEST_F(IrcChat, ACatalogCommandOnTwoAgentsIsAcknowledgedThenSummarised) {
    say("!count");
    std::string ack = bot_says("job #");
    ASSERT_NE(ack, "");
    EXPECT_NE(ack.find("on 2 host(s): web-1, web-2"), std::string::npos) << ack;
    const long id = job_id_in(ack);

    std::string summary = bot_says("job #" + std::to_string(id) + " succeeded", 60s);
    ASSERT_NE(summary, "");
    EXPECT_NE(summary.find("2 succeeded http://hostline.test/jobs/" + std::to_string(id)),
              std::string::npos)
        << summary;
    EXPECT_NE(bot_says("web-1  succeeded  exit 0"), "");
    EXPECT_NE(bot_says("web-2  succeeded  exit 0"), "");
    for (const char* host : {"web-1", "web-2"})
        for (int i = 1; i <= 3; ++i) {
            const std::string line = "line " + std::to_string(i) + " from " + host;
            bool seen = false;
            for (const auto& m : user->messages())
                seen |= m.text == std::string(host) + " | " + line;
            if (!seen) seen = bot_says(std::string(host) + " | " + line, 5s) != "";
            EXPECT_TRUE(seen) << line;
        }

    // The job is kept, as alice's, with every host's output.
    auto doc = cluster.cli_json({"job", std::to_string(id)});
    EXPECT_EQ(doc["job"]["requester"].get<std::string>().rfind("irc:alice", 0), 0u) << doc.dump();
    EXPECT_EQ(doc["job"]["source"], "irc:#ops");
    ASSERT_EQ(doc["runs"].size(), 2u);
    for (const auto& run : doc["runs"]) EXPECT_EQ(run["exit_code"], 0);

    say("!history");
    EXPECT_NE(bot_says("#" + std::to_string(id) + "  succeeded  role=web"), "");
}

TEST_F(IrcChat, AParseErrorAndAnUnknownCommandAreExplained) {
    say("!flood --n many");
    std::string error = bot_says("error:");
    EXPECT_NE(error.find("many"), std::string::npos) << error;
    EXPECT_NE(bot_says("usage: !flood N"), "") << "a parse error shows the usage";

    say("!run --on web-1 -- echo \"unbalanced");
    EXPECT_NE(bot_says("error: unclosed \" quote starting at column 24"), "");
    EXPECT_NE(bot_says("usage: !run --on TARGET"), "");

    say("!frobnicate now");
    EXPECT_NE(bot_says("unknown command 'frobnicate': try !help"), "");

    say("!flood --n 3 --on web-1 ; rm -rf /");
    EXPECT_NE(bot_says("error: too many arguments for flood at ';'"), "")
        << "extra words are refused, not run";
    EXPECT_NE(bot_says("usage: !flood N"), "");
    auto jobs = cluster.cli_json({"jobs"});
    ASSERT_TRUE(jobs.contains("jobs")) << jobs.dump();
    EXPECT_TRUE(jobs["jobs"].empty()) << "nothing ran: " << jobs.dump();
}

TEST_F(IrcChat, TenThousandLinesAreCutInTheChannelAndKeptInTheJob) {
    say("!flood 10000 --on web-1");
    std::string ack = bot_says("job #");
    ASSERT_NE(ack, "");
    const long id = job_id_in(ack);
    const std::size_t before = user->messages().size();

    ASSERT_NE(bot_says("job #" + std::to_string(id) + " succeeded", 60s), "");
    std::string more = bot_says("more lines: !output " + std::to_string(id));
    EXPECT_NE(more.find("(+9990 more lines"), std::string::npos) << more;
    user->drain_for(2s);  // anything the bot might still send
    std::size_t lines_in_channel = user->messages().size() - before;
    EXPECT_LE(lines_in_channel, 20u) << "the summary is cut to fit a chat window";

    std::string expected;
    for (int i = 1; i <= 10000; ++i) expected += std::to_string(i) + "\n";
    std::string stored = stored_output(id);
    EXPECT_TRUE(stored == expected) << "the job keeps every line: " << stored.size() << " bytes of "
                                    << expected.size() << " stored";
}

TEST_F(IrcChat, TheBotRejoinsAfterTheServerRestartsMidConversation) {
    // Long enough that alice and the bot are both back (ngircd delays each JOIN by a second)
    // before it ends: IRC keeps no history, so a summary sent before alice rejoined is lost
    // to her however well the bot behaves.
    say("!count --pause 2");
    std::string ack = bot_says("job #");
    ASSERT_NE(ack, "");
    const long id = job_id_in(ack);

    // The server goes away while the job runs, and comes back on the same port.
    ircd.stop();
    user.reset();
    ASSERT_TRUE(ircd.start());
    user = std::make_unique<IrcUser>(ircd.port(), "alice");
    ASSERT_TRUE(user->log_in());
    ASSERT_TRUE(user->join(kChannel));
    ASSERT_TRUE(user->see_join(kBot, kChannel, 30s)) << "the bot did not come back";

    // The job ran on meanwhile, and its summary arrives in the channel.
    EXPECT_NE(bot_says("job #" + std::to_string(id) + " succeeded: 2 succeeded", 30s), "");
    auto doc = cluster.wait_job(
        id, [](const nlohmann::json& d) { return d["job"].value("state", "") == "succeeded"; });
    EXPECT_EQ(doc["job"]["state"], "succeeded") << doc.dump();

    // The conversation goes on.
    say("!job " + std::to_string(id));
    EXPECT_NE(bot_says("job #" + std::to_string(id) + " succeeded"), "");
    say("!hosts");
    EXPECT_NE(bot_says("2 host(s), 2 online:"), "");
}

}  // namespace
}  // namespace hostline::testing
