// Schedules end to end: the real controller with [chat.irc] on a real ngircd, a real agent, and
// a person in #ops who adds schedules with !schedule. What is asserted is what that person sees
// in the channel, what the CLI shows of the jobs, and the audit rows in the database.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "chat/irc_test_peers.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using chat::irc::test_peers::IrcUser;
using chat::irc::test_peers::Ngircd;

constexpr const char* kChannel = "#ops";
constexpr const char* kBot = "hostline";

class Schedules : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(Ngircd::installed())
            << "ngircd is missing: scripts/install-deps.sh installs it";
        ASSERT_TRUE(ircd.start());
        cluster.add_controller_config(
            "[chat.irc]\nhost = \"127.0.0.1\"\nport = " + std::to_string(ircd.port()) +
            "\ntls = false\nnick = \"hostline\"\n"
            "channels = [\"#ops\"]\n"
            "messages_per_second = 20\nburst = 20\n");
        cluster.set_policy("[groups.everyone]\nmembers = [\"irc:*\"]\nroles = [\"admin\"]\n");
        cluster.start_controller();
        cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
        cluster.wait_online({"web-1"});
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

    std::string bot_says(const std::string& part, std::chrono::seconds timeout = 20s) {
        return user->wait_for_message(kBot, kChannel, part, timeout).value_or("");
    }

    static long job_id_in(const std::string& ack) {
        auto at = ack.find("job #");
        return at == std::string::npos ? 0 : std::stol(ack.substr(at + 5));
    }

    std::string database() const {
        return std::filesystem::path(cluster.token_file()).parent_path().string() + "/hostline.db";
    }

    // sqlite3's output for one statement on the controller's database.
    std::string sql(const std::string& statement) {
        std::string command = "sqlite3 '" + database() + "' \"" + statement + "\" 2>&1";
        std::string out;
        if (FILE* p = ::popen(command.c_str(), "r")) {
            std::array<char, 4096> buffer{};
            while (std::fgets(buffer.data(), buffer.size(), p) != nullptr) out += buffer.data();
            ::pclose(p);
        }
        return out;
    }

    // The controller stopped and started again.
    void restart_controller(const std::function<void()>& while_down) {
        ASSERT_EQ(cluster.stop_controller(), 0);
        while_down();
        cluster.start_controller();
        cluster.wait_online({"web-1"});
        // The bot may come back as "hostline_" while the server still holds its old
        // connection; bot_says() takes either, and the adapter holds replies until it rejoins.
    }

    Ngircd ircd;
    LocalCluster cluster;
    std::unique_ptr<IrcUser> user;
};

TEST_F(Schedules, AScheduleFiresWithinAMinuteAndPostsItsResultInTheChannel) {
    say("!schedule add \"* * * * *\" --name every-minute -- run --on web-1 -- echo from-cron");
    const std::string added = bot_says("schedule every-minute added");
    ASSERT_NE(added, "");

    const std::string ack = bot_says("schedule every-minute: job #", 75s);
    ASSERT_NE(ack, "") << "no firing within a minute";
    const long id = job_id_in(ack);
    ASSERT_GT(id, 0) << ack;
    EXPECT_NE(bot_says("job #" + std::to_string(id) + " succeeded", 30s), "");
    EXPECT_NE(bot_says("web-1 | from-cron"), "");

    // The job is alice's, from the schedule, and names it.
    auto doc = cluster.cli_json({"job", std::to_string(id)});
    EXPECT_EQ(doc["job"]["requester"].get<std::string>().rfind("irc:alice", 0), 0u) << doc.dump();
    EXPECT_EQ(doc["job"]["source"], "schedule:every-minute");
    EXPECT_EQ(doc["job"]["schedule"], 1) << doc.dump();

    say("!schedule remove every-minute");
    EXPECT_NE(bot_says("schedule every-minute removed"), "");
}

TEST_F(Schedules, FiringsMissedAcrossARestartAreSkippedOrRunOnceAtStart) {
    say("!schedule add \"0 3 * * *\" --name skip-me -- run --on web-1 -- echo should-not-run");
    ASSERT_NE(bot_says("schedule skip-me added"), "");
    say("!schedule add \"0 3 * * *\" --name catch-up --run-missed -- run --on web-1 -- echo "
        "caught-up");
    ASSERT_NE(bot_says("schedule catch-up added"), "");

    // Down for two days: both schedules' last firing moved back 48 h, so two 03:00 firings
    // fall between it and the restart.
    restart_controller([&] {
        const auto two_days_ago = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch() - 48h)
                                      .count();
        EXPECT_EQ(sql("UPDATE schedules SET last_fired_at_ms = " + std::to_string(two_days_ago) +
                      "; SELECT changes();"),
                  "2\n");
    });

    const std::string ack = bot_says("schedule catch-up: job #", 30s);
    ASSERT_NE(ack, "") << "the run-missed schedule did not run at start";
    const long id = job_id_in(ack);
    EXPECT_NE(bot_says("job #" + std::to_string(id) + " succeeded", 30s), "");
    EXPECT_NE(bot_says("web-1 | caught-up"), "");

    // One job only, the catch-up's: skip-me ran nothing.
    auto jobs = cluster.cli_json({"jobs"});
    ASSERT_EQ(jobs["jobs"].size(), 1u) << jobs.dump();
    EXPECT_EQ(jobs["jobs"][0]["source"], "schedule:catch-up");
    for (const auto& message : user->messages())
        EXPECT_EQ(message.text.find("| should-not-run"), std::string::npos) << message.text;

    const std::string skipped =
        sql("SELECT detail FROM audit WHERE kind = 'schedule.missed' AND subject = "
            "'schedule:skip-me';");
    EXPECT_NE(skipped.find("skipped"), std::string::npos) << skipped;
    EXPECT_NE(skipped.find("\"count\":\"2\""), std::string::npos) << skipped;
    const std::string ran =
        sql("SELECT detail FROM audit WHERE kind = 'schedule.missed' AND subject = "
            "'schedule:catch-up';");
    EXPECT_NE(ran.find("run once at start"), std::string::npos) << ran;
    EXPECT_NE(ran.find("\"count\":\"2\""), std::string::npos) << ran;
}

}  // namespace
}  // namespace hostline::testing
