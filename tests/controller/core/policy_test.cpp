// The policy engine: loading policy.toml (errors name file and key) and the decision matrix.
#include "controller/policy/policy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <fstream>

#include "controller/catalog/catalog.hpp"
#include "controller/core/recorded_audit.hpp"
#include "controller/policy/policy_file.hpp"

namespace hostline::controller {
namespace {

const char* kPolicy = R"(
[roles.operator]
permissions = ["command.uptime", "run.adhoc", "jobs.read"]
targets = "role=web"
channels = ["irc:#ops", "local:*"]

[roles.dba]
permissions = ["command.restart-service"]
targets = "@databases"

[roles.auditor]
permissions = ["jobs.read", "jobs.cancel.any", "approvals.decide", "agents.manage",
               "schedules.manage", "audit.read", "tokens.manage", "policy.reload",
               "metrics.read", "logs.manage"]
channels = ["irc:#audit"]

[roles.viewer]
permissions = ["command.uptime"]
targets = "*"
channels = ["irc:#random"]

[groups.ops]
members = ["irc:alice", "slack:U024BE7LH"]
roles = ["operator"]

[groups.dbas]
members = ["irc:dave"]
roles = ["dba", "viewer"]

[groups.auditors]
members = ["local:*"]
roles = ["auditor"]

[groups.root]
members = ["irc:root"]
roles = ["admin"]
)";

const std::set<std::string> kCommandPermissions = {"command.uptime", "command.restart-service"};
const target::Groups kGroups = {{"databases", "role=db"}};

const target::Host kWeb01{"web-01", {{"role", "web"}}};
const target::Host kWeb02{"web-02", {{"role", "web"}}};
const target::Host kWeb03{"web-03", {{"role", "cache"}}};
const target::Host kDb01{"db-01", {{"role", "db"}}};

class PolicyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-policy-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& text, const std::string& name = "policy.toml") {
        std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
    Policy load(const std::string& text) {
        auto policy = Policy::load(write(text), kGroups, kCommandPermissions);
        EXPECT_TRUE(policy.ok()) << policy.error().message;
        return policy ? std::move(*policy) : Policy();
    }
    std::string error_of(const std::string& text) {
        auto policy = Policy::load(write(text), kGroups, kCommandPermissions);
        EXPECT_FALSE(policy.ok());
        return policy ? "" : policy.error().message;
    }

    std::string dir_;
};

struct Case {
    const char* identity;
    std::string permission;
    std::vector<target::Host> hosts;
    const char* channel;
    bool allowed;
    const char* role_or_reason;  // the allowing role, or the exact denial
};

TEST_F(PolicyTest, DecisionMatrix) {
    Policy policy = load(kPolicy);
    const std::vector<Case> cases = {
        // A catalog command with a scope: in scope, out of scope, channel allowed or not.
        {"irc:alice", "command.uptime", {kWeb01, kWeb02}, "irc:#ops", true, "operator"},
        {"slack:U024BE7LH", "command.uptime", {kWeb01}, "", true, "operator"},
        {"irc:alice",
         "command.uptime",
         {kWeb01, kWeb03, kDb01},
         "irc:#ops",
         false,
         "web-03, db-01 are outside the hosts your roles may touch (role=web)"},
        {"irc:alice",
         "command.uptime",
         {kDb01},
         "irc:#ops",
         false,
         "db-01 is outside the hosts your roles may touch (role=web)"},
        {"irc:alice",
         "command.uptime",
         {kWeb01},
         "irc:#random",
         false,
         "command.uptime is not allowed in irc:#random"},
        {"irc:alice",
         "command.restart-service",
         {kDb01},
         "irc:#ops",
         false,
         "you (irc:alice) lack command.restart-service"},
        // Groups expand in role targets; two roles each granting one thing.
        {"irc:dave", "command.restart-service", {kDb01}, "irc:#any", true, "dba"},
        {"irc:dave",
         "command.restart-service",
         {kWeb01},
         "irc:#any",
         false,
         "web-01 is outside the hosts your roles may touch (@databases)"},
        {"irc:dave", "command.uptime", {kDb01, kWeb03}, "irc:#random", true, "viewer"},
        {"irc:dave",
         "command.uptime",
         {kDb01},
         "irc:#ops",
         false,
         "command.uptime is not allowed in irc:#ops"},
        // run.adhoc is scoped like a command.
        {"irc:alice", "run.adhoc", {kWeb01}, "irc:#ops", true, "operator"},
        {"irc:alice",
         "run.adhoc",
         {kWeb03},
         "irc:#ops",
         false,
         "web-03 is outside the hosts your roles may touch (role=web)"},
        {"irc:dave", "run.adhoc", {kDb01}, "irc:#ops", false, "you (irc:dave) lack run.adhoc"},
        // Unknown callers: deny by default.
        {"irc:mallory",
         "command.uptime",
         {kWeb01},
         "irc:#ops",
         false,
         "you (irc:mallory) lack command.uptime"},
        {"irc:alicex", "jobs.read", {}, "irc:#ops", false, "you (irc:alicex) lack jobs.read"},
        // A trailing * in members: every local user is an auditor, in #audit or the API.
        {"local:bob", "audit.read", {}, "", true, "auditor"},
        {"local:bob", "audit.read", {}, "irc:#ops", false, "audit.read is not allowed in irc:#ops"},
        {"irc:bob", "audit.read", {}, "", false, "you (irc:bob) lack audit.read"},
        // The admin role and the admin token have everything, everywhere.
        {"irc:root", "command.restart-service", {kWeb01, kDb01}, "irc:#random", true, "admin"},
        {"token:admin", "run.adhoc", {kWeb03, kDb01}, "", true, "admin"},
        {"token:ci", "run.adhoc", {kWeb01}, "", false, "you (token:ci) lack run.adhoc"},
    };
    // Each built-in permission: the auditor (in its channel) has it, alice does not.
    std::vector<Case> all = cases;
    for (const char* p : kPermissions) {
        std::string perm = p;
        bool auditor_has = perm != "run.adhoc";
        all.push_back({"local:carol",
                       perm,
                       {},
                       "irc:#audit",
                       auditor_has,
                       auditor_has ? "auditor" : "you (local:carol) lack run.adhoc"});
        bool alice_has = perm == "run.adhoc" || perm == "jobs.read";
        all.push_back(
            {"irc:alice", perm, {}, "irc:#ops", alice_has, alice_has ? "operator" : nullptr});
        all.push_back({"irc:root", perm, {}, "irc:#ops", true, "admin"});
    }
    for (const Case& c : all) {
        Decision d = policy.decide({c.identity, c.permission, c.hosts, c.channel});
        SCOPED_TRACE(std::string(c.identity) + " " + c.permission + " in '" + c.channel + "'");
        EXPECT_EQ(d.allowed, c.allowed) << d.reason;
        if (c.allowed) {
            EXPECT_EQ(d.role, c.role_or_reason);
            EXPECT_EQ(d.reason, "");
        } else if (c.role_or_reason) {
            EXPECT_EQ(d.reason, c.role_or_reason);
        } else {
            EXPECT_EQ(d.reason, std::string("you (") + c.identity + ") lack " + c.permission);
        }
    }
}

TEST_F(PolicyTest, WithoutAFileOnlyTheAdminTokenMayDoAnything) {
    Policy none;
    EXPECT_TRUE(none.decide({"token:admin", "policy.reload", {}, ""}).allowed);
    EXPECT_TRUE(none.decide({"token:admin", "command.uptime", {kDb01}, ""}).allowed);
    Decision d = none.decide({"local:root", "jobs.read", {}, ""});
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "you (local:root) lack jobs.read");
}

TEST_F(PolicyTest, RolesOfAndGroupMembership) {
    Policy policy = load(kPolicy);
    EXPECT_EQ(policy.roles_of("irc:dave"), (std::vector<std::string>{"dba", "viewer"}));
    EXPECT_EQ(policy.roles_of("local:zoe"), (std::vector<std::string>{"auditor"}));
    EXPECT_EQ(policy.roles_of("token:admin"), (std::vector<std::string>{"admin"}));
    EXPECT_TRUE(policy.roles_of("irc:nobody").empty());
    EXPECT_TRUE(policy.in_group("irc:alice", "ops"));
    EXPECT_TRUE(policy.in_group("local:anyone", "auditors"));
    EXPECT_FALSE(policy.in_group("irc:dave", "ops"));
    EXPECT_FALSE(policy.in_group("irc:alice", "no-such-group"));
}

TEST_F(PolicyTest, ARoleMayRequireApprovalForWhatItAllowsUnlessAnotherRoleAllowsItOutright) {
    Policy policy = load(R"(
[roles.junior]
permissions = ["command.restart-service", "command.uptime"]
targets = "*"
approval = { group = "ops-leads", count = 2, expiry = "15m" }
[roles.uptimer]
permissions = ["command.uptime"]
targets = "*"
[groups.juniors]
members = ["irc:jim"]
roles = ["junior"]
[groups.both]
members = ["irc:kim"]
roles = ["junior", "uptimer"]
)");
    Decision jim = policy.decide({"irc:jim", "command.restart-service", {kWeb01}, ""});
    ASSERT_TRUE(jim.allowed) << jim.reason;
    ASSERT_TRUE(jim.approval);
    EXPECT_EQ(jim.approval->group, "ops-leads");
    EXPECT_EQ(jim.approval->count, 2);
    EXPECT_EQ(jim.approval->expiry_ms, 15 * 60 * 1000);
    Decision kim = policy.decide({"irc:kim", "command.uptime", {kWeb01}, ""});
    ASSERT_TRUE(kim.allowed);
    EXPECT_FALSE(kim.approval) << "uptimer allows it without approval";
    EXPECT_EQ(kim.role, "uptimer");
    EXPECT_TRUE(policy.decide({"irc:kim", "command.restart-service", {kWeb01}, ""}).approval);

    std::string e = error_of(
        "[roles.r]\npermissions = [\"run.adhoc\"]\napproval = { count = 0, colour = 1 }\n");
    EXPECT_NE(e.find("roles.r.approval.group: is required"), std::string::npos) << e;
    EXPECT_NE(e.find("roles.r.approval.count:"), std::string::npos) << e;
    EXPECT_NE(e.find("roles.r.approval.colour: is not a known setting"), std::string::npos) << e;
}

TEST_F(PolicyTest, LoaderErrorsNameTheFileAndTheKey) {
    std::string path = dir_ + "/policy.toml";
    std::string e = error_of(
        "[roles.ops]\npermissions = [\"jobs.reed\", \"command.nope\"]\ntargets = \"role=(\"\n"
        "channels = [\"#ops\"]\ncolour = \"red\"\n"
        "[roles.admin]\npermissions = []\n"
        "[groups.g]\nmembers = [\"alice\", \"irc:a*b\"]\nroles = [\"ghost\"]\n"
        "[extra]\nx = 1\n");
    EXPECT_NE(e.find(path + ": roles.ops.permissions: unknown permission 'jobs.reed'"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find(path + ": roles.ops.permissions: 'command.nope' is not the permission of "
                            "any catalog command"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find(path + ": roles.ops.targets: target 'role=('"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ": roles.ops.channels: '#ops' is not platform:channel"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find(path + ": roles.ops.colour: is not a known setting"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ": roles.admin: admin is built in"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ": groups.g.members: 'alice' is not platform:id"), std::string::npos)
        << e;
    EXPECT_NE(e.find(path + ": groups.g.members: 'irc:a*b' is not platform:id"), std::string::npos)
        << e;
    EXPECT_NE(e.find(path + ": groups.g.roles: there is no role 'ghost'"), std::string::npos) << e;
    EXPECT_NE(e.find(path + ": extra: is not a known setting"), std::string::npos) << e;

    EXPECT_NE(error_of("[roles.a]\npermissions = \"run.adhoc\"\n")
                  .find("roles.a.permissions: must be an array of strings"),
              std::string::npos);
    EXPECT_NE(error_of("[roles.a\n").find(path + ":1:"), std::string::npos);
    auto missing = Policy::load(dir_ + "/nope.toml", kGroups, kCommandPermissions);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, dir_ + "/nope.toml: cannot read the file");
}

// Runs io until a reload has answered (the file is read on a thread of its own).
Result<void> reload(boost::asio::io_context& io, PolicyFile& file, const std::string& actor) {
    std::optional<Result<void>> outcome;
    auto guard = boost::asio::make_work_guard(io);
    file.reload(actor, [&](Result<void> r) {
        outcome = std::move(r);
        guard.reset();
    });
    io.restart();
    io.run();
    return outcome.has_value() ? std::move(*outcome) : fail("no answer");
}

TEST_F(PolicyTest, ReloadKeepsThePolicyInForceWhenTheNewFileIsBad) {
    boost::asio::io_context io;
    RecordedAudit audit;
    std::string path = write(kPolicy);
    PolicyFile file(path, kGroups, kCommandPermissions, audit,
                    [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
    ASSERT_TRUE(file.load().ok());
    auto before = file.current();
    ASSERT_TRUE(before->decide({"irc:alice", "run.adhoc", {kWeb01}, "irc:#ops"}).allowed);

    write("[roles.operator]\npermissions = [\"run.adhok\"]\n");
    std::optional<Result<void>> outcome = reload(io, file, "local:admin");
    ASSERT_FALSE(outcome->ok());
    EXPECT_NE(outcome->error().message.find(path + ": roles.operator.permissions: unknown "
                                                   "permission 'run.adhok'"),
              std::string::npos);
    EXPECT_EQ(file.current(), before);
    EXPECT_TRUE(file.current()->decide({"irc:alice", "run.adhoc", {kWeb01}, "irc:#ops"}).allowed);

    write(
        "[roles.operator]\npermissions = [\"jobs.read\"]\n[groups.ops]\nmembers = "
        "[\"irc:alice\"]\nroles = [\"operator\"]\n");
    outcome = reload(io, file, "controller");
    ASSERT_TRUE(outcome->ok()) << outcome->error().message;
    Decision d = file.current()->decide({"irc:alice", "run.adhoc", {kWeb01}, "irc:#ops"});
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "you (irc:alice) lack run.adhoc");
    // The decision held from before the reload is unchanged: nothing in flight is touched.
    EXPECT_TRUE(before->decide({"irc:alice", "run.adhoc", {kWeb01}, "irc:#ops"}).allowed);
    ASSERT_EQ(audit.events.size(), 2u);
    EXPECT_EQ(audit.events[0].kind, "policy.reloaded");
    EXPECT_EQ(audit.events[0].actor, "local:admin");
    EXPECT_EQ(audit.events[0].detail.at("outcome"), "refused");
    EXPECT_EQ(audit.events[1].detail.at("outcome"), "loaded");
}

TEST_F(PolicyTest, ReloadWithoutAPolicyFileIsRefused) {
    boost::asio::io_context io;
    NoAuditTrail audit;
    PolicyFile file("", {}, {}, audit,
                    [&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
    std::optional<Result<void>> outcome = reload(io, file, "token:admin");
    ASSERT_FALSE(outcome->ok());
    EXPECT_EQ(outcome->error().message,
              "no policy file is configured ([controller] policy_file in controller.toml)");
    EXPECT_FALSE(file.current()->decide({"local:me", "jobs.read", {}, ""}).allowed);
}

}  // namespace
}  // namespace hostline::controller

namespace hostline::controller {
namespace {

TEST(ExamplePolicy, LoadsWithTheExampleCatalog) {
    auto catalog = Catalog::load(HOSTLINE_SOURCE_DIR "/examples/commands.d");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    std::set<std::string> permissions;
    for (const CommandSpec& spec : catalog->commands()) permissions.insert(spec.permission);
    auto policy = Policy::load(HOSTLINE_SOURCE_DIR "/examples/policy.toml", {}, permissions);
    ASSERT_TRUE(policy.ok()) << policy.error().message;
    Decision d = policy->decide(
        {"irc:alice", "command.restart-service", {{"web-01", {{"role", "web"}}}}, "irc:#ops"});
    EXPECT_EQ(d.reason, "you (irc:alice) lack command.restart-service");
    EXPECT_TRUE(
        policy
            ->decide(
                {"irc:carol", "command.restart-service", {{"db-01", {{"role", "db"}}}}, "irc:#ops"})
            .allowed);
}

}  // namespace
}  // namespace hostline::controller
