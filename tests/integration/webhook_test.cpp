// Inbound webhooks end to end (docs/webhooks.md): the real controller with [hooks.*] and
// [chat.irc] against a real ngircd, real agents, and a person in #ops. A hook is called the
// way GitHub or a CI system calls it: a raw HTTP POST to /hooks/NAME with an HMAC header and
// no bearer token. What is asserted is what the sender gets back, what the person sees in the
// channel, the job the agent ran, and the audit rows.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chat/irc_test_peers.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using chat::irc::test_peers::IrcUser;
using chat::irc::test_peers::Ngircd;
using json = nlohmann::json;

constexpr const char* kChannel = "#ops";
constexpr const char* kBot = "hostline";
constexpr const char* kGithubSecret = "It's a Secret to Everybody";
constexpr const char* kCiSecret = "ci-shared-secret-0123456789";

constexpr const char* kCatalog = R"toml(
[[command]]
name = "greet"
summary = "Say hello to someone"
run = ["echo", "hello {who} from the hook"]

[[command.param]]
name = "who"
type = "string"
pattern = "^[a-z]+$"
required = true
help = "whom to greet"
)toml";

// The CI identity may run greet on the web hosts, from its hook only; the rogue identity may
// do nothing.
constexpr const char* kPolicy = R"toml(
[roles.deployer]
permissions = ["command.greet"]
targets = "role=web"
channels = ["hook:ci-greet"]

[groups.ci]
members = ["webhook:ci"]
roles = ["deployer"]

[groups.everyone]
members = ["irc:*"]
roles = ["admin"]
)toml";

std::string hmac_hex(const std::string& key, const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
    std::string hex;
    char pair[3];
    for (unsigned i = 0; i < size; ++i) {
        std::snprintf(pair, sizeof pair, "%02x", digest[i]);
        hex += pair;
    }
    return hex;
}

struct HttpAnswer {
    int status = 0;
    json body;
};

// One POST with exactly these headers (no Authorization), as a webhook sender makes it.
HttpAnswer post(testing::LocalCluster& cluster, const std::string& path,
                const testing::HttpHeaders& headers, const std::string& body) {
    const testing::ApiAnswer answer = cluster.api("POST", path, "", body, headers);
    return HttpAnswer{answer.status, json::parse(answer.body, nullptr, false)};
}

json push_payload(const std::string& pusher, int commits) {
    json list = json::array();
    for (int i = 0; i < commits; ++i) list.push_back({{"id", std::to_string(i)}});
    return {{"ref", "refs/heads/main"},
            {"pusher", {{"name", pusher}}},
            {"commits", list},
            {"repository", {{"full_name", "acme/site"}}}};
}

class Webhooks : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(Ngircd::installed())
            << "ngircd is missing: scripts/install-deps.sh installs it";
        ASSERT_TRUE(ircd.start());
        const std::string catalog = cluster.dir() + "/commands.d";
        std::filesystem::create_directories(catalog);
        std::ofstream(catalog + "/greet.toml") << kCatalog;
        const std::string github_secret = cluster.dir() + "/github.secret";
        const std::string ci_secret = cluster.dir() + "/ci.secret";
        std::ofstream(github_secret) << kGithubSecret << "\n";
        std::ofstream(ci_secret) << kCiSecret << "\n";
        cluster.add_controller_config(
            "[catalog]\ndir = \"" + catalog + "\"\n" +
            "[chat.irc]\nhost = \"127.0.0.1\"\nport = " + std::to_string(ircd.port()) +
            "\ntls = false\nnick = \"hostline\"\nchannels = [\"#ops\"]\n"
            "messages_per_second = 20\nburst = 20\n"
            "[hooks.github-push]\nsecret_file = \"" +
            github_secret +
            "\"\nsignature = \"github\"\n"
            "post = { channel = \"irc:#ops\", text = \"{{pusher.name}} pushed "
            "{{commits.length}} commit(s) to {{repository.full_name}}\" }\n"
            "[hooks.ci-greet]\nsecret_file = \"" +
            ci_secret +
            "\"\nsignature = \"header\"\nheader = \"X-Signature\"\nprefix = \"sha256=\"\n"
            "timestamp_header = \"X-Timestamp\"\n"
            "run = { command = \"greet\", identity = \"webhook:ci\", target = \"role=web\", "
            "params = { who = \"{{sender.login}}\" } }\n"
            "[hooks.rogue-greet]\nsecret_file = \"" +
            ci_secret +
            "\"\nsignature = \"header\"\nheader = \"X-Signature\"\n"
            "run = { command = \"greet\", identity = \"webhook:rogue\", target = \"role=web\", "
            "params = { who = \"{{sender.login}}\" } }\n");
        cluster.set_policy(kPolicy);
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

    // A GitHub delivery: the body signed with `secret`, under this delivery id.
    HttpAnswer github(const std::string& body, const std::string& delivery,
                      const std::string& secret = kGithubSecret) {
        return post(cluster, "/hooks/github-push",
                    {{"X-GitHub-Event", "push"},
                     {"X-GitHub-Delivery", delivery},
                     {"X-Hub-Signature-256", "sha256=" + hmac_hex(secret, body)}},
                    body);
    }

    // A CI call to a header hook: "TIMESTAMP.BODY" signed (the timestamp `age` old).
    HttpAnswer ci(const std::string& hook, const std::string& body, std::chrono::seconds age = 0s) {
        const std::string stamp = std::to_string(std::time(nullptr) - age.count());
        const bool timestamped = hook == "ci-greet";
        std::vector<std::pair<std::string, std::string>> headers{
            {"X-Signature", (timestamped ? "sha256=" : "") +
                                hmac_hex(kCiSecret, timestamped ? stamp + "." + body : body)}};
        if (timestamped) headers.emplace_back("X-Timestamp", stamp);
        return post(cluster, "/hooks/" + hook, headers, body);
    }

    std::vector<json> audit(const std::string& kind) {
        CommandResult result = cluster.cli({"audit", "export", "--kind", kind});
        EXPECT_EQ(result.exit_code, 0) << result.err;
        std::vector<json> events;
        std::istringstream lines(result.out);
        for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
        return events;
    }

    bool channel_has(const std::string& part) {
        for (const auto& m : user->messages())
            if (m.text.find(part) != std::string::npos) return true;
        return false;
    }

    Ngircd ircd;
    LocalCluster cluster;
    std::unique_ptr<IrcUser> user;
};

TEST_F(Webhooks, AValidGithubPushIsPostedInTheChannelAndItsReplayIsRefused) {
    const std::string body = push_payload("octocat", 2).dump();
    HttpAnswer first = github(body, "delivery-1");
    EXPECT_EQ(first.status, 202) << first.body.dump();
    EXPECT_EQ(user->wait_for_message(kBot, kChannel, "octocat pushed", 20s).value_or(""),
              "octocat pushed 2 commit(s) to acme/site");

    HttpAnswer again = github(body, "delivery-1");
    EXPECT_EQ(again.status, 409) << again.body.dump();
    EXPECT_EQ(again.body["error"]["code"], "conflict") << again.body.dump();
    // The same body under a new delivery id is the same signed call: refused too.
    HttpAnswer renamed = github(body, "delivery-1b");
    EXPECT_EQ(renamed.status, 409) << renamed.body.dump();

    const auto received = audit("hook.received");
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(received[0]["actor"], "hook:github-push");
    EXPECT_EQ(received[0]["detail"]["delivery"], "delivery-1") << received[0].dump();
}

TEST_F(Webhooks, ABadSignatureIsRefusedWith401AndNothingIsPosted) {
    const std::string forged = push_payload("mallory", 1).dump();
    HttpAnswer wrong_key = github(forged, "delivery-m1", "not the secret");
    EXPECT_EQ(wrong_key.status, 401) << wrong_key.body.dump();
    EXPECT_EQ(wrong_key.body["error"]["code"], "unauthorized") << wrong_key.body.dump();
    HttpAnswer unsigned_call =
        post(cluster, "/hooks/github-push", {{"X-GitHub-Delivery", "delivery-m2"}}, forged);
    EXPECT_EQ(unsigned_call.status, 401) << unsigned_call.body.dump();
    // A valid signature of another body does not sign this one.
    const std::string honest = push_payload("octocat", 1).dump();
    HttpAnswer swapped =
        post(cluster, "/hooks/github-push",
             {{"X-GitHub-Delivery", "delivery-m3"},
              {"X-Hub-Signature-256", "sha256=" + hmac_hex(kGithubSecret, honest)}},
             forged);
    EXPECT_EQ(swapped.status, 401) << swapped.body.dump();

    // A good call after them is the first thing the bot says: the forged ones said nothing.
    ASSERT_EQ(github(honest, "delivery-ok").status, 202);
    EXPECT_NE(user->wait_for_message(kBot, kChannel, "octocat pushed 1", 20s).value_or(""), "");
    EXPECT_FALSE(channel_has("mallory"));

    const auto refused = audit("hook.refused");
    ASSERT_EQ(refused.size(), 3u);
    for (const json& row : refused) {
        EXPECT_EQ(row["actor"], "hook:github-push");
        EXPECT_EQ(row["detail"]["status"], "401") << row.dump();
    }
    EXPECT_EQ(audit("hook.received").size(), 1u);
}

TEST_F(Webhooks, ARunHookStartsItsCatalogCommandAsItsIdentity) {
    HttpAnswer started = ci("ci-greet", json{{"sender", {{"login", "robot"}}}}.dump());
    ASSERT_EQ(started.status, 202) << started.body.dump();
    ASSERT_TRUE(started.body.contains("job_id")) << started.body.dump();
    const long id = started.body["job_id"].get<long>();
    json doc = cluster.wait_job(
        id, [](const json& d) { return d["job"].value("state", "") == "succeeded"; });
    EXPECT_EQ(doc["job"]["requester"], "webhook:ci") << doc.dump();
    CommandResult output = cluster.cli({"job", std::to_string(id), "--output"});
    EXPECT_NE(output.out.find("hello robot from the hook"), std::string::npos) << output.out;

    // A timestamp older than five minutes is refused, whoever signed it.
    HttpAnswer stale = ci("ci-greet", json{{"sender", {{"login", "late"}}}}.dump(), 600s);
    EXPECT_EQ(stale.status, 401) << stale.body.dump();
    // A value the command's pattern refuses is 422, and starts nothing.
    HttpAnswer invalid = ci("ci-greet", json{{"sender", {{"login", "Robert'); DROP"}}}}.dump());
    EXPECT_EQ(invalid.status, 422) << invalid.body.dump();
    // A path the body lacks is 422 too: the misconfigured hook is noticed.
    HttpAnswer missing = ci("ci-greet", json{{"user", "robot"}}.dump());
    EXPECT_EQ(missing.status, 422) << missing.body.dump();
    EXPECT_EQ(audit("job.created").size(), 1u);
}

TEST_F(Webhooks, ARunHookWhoseIdentityThePolicyRefusesGets403AndNoJob) {
    HttpAnswer refused = ci("rogue-greet", json{{"sender", {{"login", "robot"}}}}.dump());
    EXPECT_EQ(refused.status, 403) << refused.body.dump();
    EXPECT_NE(refused.body["error"]["message"].get<std::string>().find("webhook:rogue"),
              std::string::npos)
        << refused.body.dump();
    EXPECT_TRUE(audit("job.created").empty());
    const auto denied = audit("policy.denied");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]["actor"], "webhook:rogue");
    EXPECT_EQ(denied[0]["detail"]["channel"], "hook:rogue-greet");

    HttpAnswer unknown = ci("no-such-hook", "{}");
    EXPECT_EQ(unknown.status, 404) << unknown.body.dump();
}

}  // namespace
}  // namespace hostline::testing
