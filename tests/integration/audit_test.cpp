// The audit chain and API tokens end to end: the real controller and agent, the real CLI,
// and the database file changed with the sqlite3 command line tool as an attacker would.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using nlohmann::json;

class Audit : public ClusterTest {
  protected:
    std::vector<json> exported(const std::vector<std::string>& options = {}) {
        std::vector<std::string> args{"audit", "export"};
        args.insert(args.end(), options.begin(), options.end());
        CommandResult result = cluster.cli(args);
        EXPECT_EQ(result.exit_code, 0) << result.err;
        std::vector<json> events;
        std::istringstream lines(result.out);
        for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
        return events;
    }

    // `hostline` with another token file than the admin's.
    CommandResult cli_with_token(const std::string& token_file,
                                 const std::vector<std::string>& args) {
        std::vector<std::string> argv{cluster.bin("hostline"), "--controller", cluster.http_url(),
                                      "--token-file", token_file};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
};

TEST_F(Audit, ARowChangedInTheDatabaseFileIsNamedByVerify) {
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    for (const char* word : {"one", "two", "three"}) {
        CommandResult run = cluster.cli({"run", "--on", "web-1", "--", "echo", word});
        ASSERT_EQ(run.exit_code, 0) << run.err;
    }

    CommandResult intact = cluster.cli({"audit", "verify"});
    EXPECT_EQ(intact.exit_code, 0) << intact.err;
    EXPECT_NE(intact.out.find("the audit chain is intact"), std::string::npos) << intact.out;

    const auto created = exported({"--kind", "job.created"});
    ASSERT_EQ(created.size(), 3u);
    EXPECT_EQ(created[1]["detail"]["argv"], R"(["echo","two"])");
    EXPECT_EQ(created[1]["actor"], "token:admin");
    const auto all = exported();
    std::size_t finished = 0;
    for (const auto& event : all) finished += event["kind"] == "run.finished" ? 1 : 0;
    EXPECT_EQ(finished, 3u);
    EXPECT_EQ(all.front()["kind"], "controller.started");
    for (std::size_t i = 1; i < all.size(); ++i)
        EXPECT_EQ(all[i]["prev_hash"], all[i - 1]["hash"]) << "row " << all[i]["id"];

    cluster.stop_controller();
    const auto row = created[1]["id"].get<long>();
    CommandResult tampered =
        run_sql(cluster.database(),
                "UPDATE audit SET actor = 'irc:mallory' WHERE id = " + std::to_string(row));
    ASSERT_EQ(tampered.exit_code, 0) << tampered.err;
    cluster.start_controller();

    CommandResult broken = cluster.cli({"audit", "verify"});
    EXPECT_EQ(broken.exit_code, 1);
    EXPECT_EQ(broken.out, "the audit chain is broken: row " + std::to_string(row) +
                              ": hash does not match its contents\n");
}

TEST_F(Audit, TokensManageAloneMintsTokensOnlyForTheCallersOwnIdentity) {
    cluster.set_policy(
        "[roles.token-keeper]\npermissions = [\"tokens.manage\"]\n"
        "[groups.keepers]\nmembers = [\"local:ops\"]\nroles = [\"token-keeper\"]\n");
    cluster.start_controller();
    CommandResult created = cluster.cli({"tokens", "create", "ops", "--identity", "local:ops"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const std::string token_file = cluster.dir() + "/ops.token";
    std::ofstream(token_file) << created.out.substr(0, created.out.find('\n')) << "\n";
    ::chmod(token_file.c_str(), 0600);

    CommandResult escalate =
        cli_with_token(token_file, {"tokens", "create", "root", "--identity", "token:admin"});
    EXPECT_EQ(escalate.exit_code, 1);
    EXPECT_NE(escalate.err.find("may create tokens only for yourself"), std::string::npos)
        << escalate.err;
    CommandResult other =
        cli_with_token(token_file, {"tokens", "create", "bob", "--identity", "irc:bob"});
    EXPECT_EQ(other.exit_code, 1) << other.out;
    CommandResult own =
        cli_with_token(token_file, {"tokens", "create", "ops-2", "--identity", "local:ops"});
    EXPECT_EQ(own.exit_code, 0) << own.err;
}

// A page refreshing every few seconds must not write a row each time: an allowed read is not
// recorded; a denied read and an allowed change are.
TEST_F(Audit, AllowedReadsLeaveNoRowButDenialsAndChangesDo) {
    cluster.set_policy(
        "[roles.viewer]\npermissions = [\"jobs.read\"]\n"
        "[groups.viewers]\nmembers = [\"local:viewer\"]\nroles = [\"viewer\"]\n");
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    CommandResult created =
        cluster.cli({"tokens", "create", "viewer", "--identity", "local:viewer"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const std::string viewer = created.out.substr(0, created.out.find('\n'));
    const json job = cluster.post_api("/api/v1/jobs", {{"target", "web-1"}, {"argv", {"true"}}});
    const std::string path = "/api/v1/jobs/" + std::to_string(job["job"].get<long>());
    const auto rows_of = [&](const std::string& kind) {
        std::size_t n = 0;
        for (const json& row : exported())
            if (row["kind"] == kind && row["actor"] == "local:viewer") ++n;
        return n;
    };
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(cluster.api("GET", path, viewer).status, 200);
        EXPECT_EQ(cluster.api("GET", "/api/v1/jobs?requester=token:admin", viewer).status, 200);
    }
    EXPECT_EQ(rows_of("policy.allowed"), 0u) << "allowed reads are not recorded";
    EXPECT_EQ(cluster.api("GET", "/api/v1/audit", viewer).status, 403);
    EXPECT_EQ(cluster.api("POST", path + "/cancel", viewer).status, 403);
    EXPECT_EQ(rows_of("policy.denied"), 2u) << "a denied read and a denied change are";
}

TEST_F(Audit, ACreatedTokenWorksWithTokenFileUntilRevoked) {
    // The token's identity may run ad-hoc commands, and nothing else.
    cluster.set_policy(
        "[roles.ci]\npermissions = [\"run.adhoc\"]\ntargets = \"*\"\n"
        "[groups.ci]\nmembers = [\"local:ci\"]\nroles = [\"ci\"]\n");
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.wait_online({"web-1"});
    CommandResult created =
        cluster.cli({"tokens", "create", "ci", "--identity", "local:ci", "--ttl", "1h"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const std::string secret = created.out.substr(0, created.out.find('\n'));
    ASSERT_EQ(secret.rfind("hlt_", 0), 0u) << created.out;
    const std::string token_file = cluster.dir() + "/ci.token";
    std::ofstream(token_file) << secret << "\n";
    ::chmod(token_file.c_str(), 0600);

    CommandResult works = cli_with_token(token_file, {"run", "--on", "web-1", "--", "true"});
    EXPECT_EQ(works.exit_code, 0) << works.err;
    CommandResult beyond = cli_with_token(token_file, {"audit", "verify"});
    EXPECT_EQ(beyond.exit_code, 1);
    EXPECT_NE(beyond.err.find("you (local:ci) lack audit.read"), std::string::npos)
        << "the token obeys its identity's policy: " << beyond.err;
    const json jobs = cluster.cli_json({"jobs"});
    ASSERT_EQ(jobs["jobs"].size(), 1u);
    EXPECT_EQ(jobs["jobs"][0]["requester"], "local:ci") << "the API acts as the token's identity";

    CommandResult listed = cluster.cli({"tokens", "list"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find("local:ci"), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(secret), std::string::npos);

    CommandResult revoked = cluster.cli({"tokens", "revoke", "ci"});
    EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
    CommandResult refused = cli_with_token(token_file, {"agents"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("the token 'ci' was revoked"), std::string::npos) << refused.err;

    const auto events = exported({"--kind", "token.revoked"});
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["subject"], "token:ci");
    const CommandResult everything = cluster.cli({"audit", "export"});
    EXPECT_EQ(everything.out.find(secret.substr(4)), std::string::npos) << "the secret is audited";
    EXPECT_EQ(cluster.cli({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace hostline::testing
