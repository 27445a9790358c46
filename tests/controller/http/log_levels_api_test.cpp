// GET and PUT /api/v1/log-levels over the real pieces: an HttpServer on port 0, the SQLite
// store and StoreAuditTrail (for log.level_changed), and the process's real module loggers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/log/log.hpp"
#include "controller/http/api_server_fixture.hpp"

namespace hostline::controller {
namespace {

using namespace hostline::controller::api_test;
using ::testing::HasSubstr;

class LogLevelsApiTest : public ApiServerFixture {
  protected:
    LogLevelsApiTest() : ApiServerFixture("log-levels-api", true) {}
    void TearDown() override {
        ApiServerFixture::TearDown();
        // The levels are the process's: back to where other tests expect them.
        EXPECT_TRUE(log::setup("controller", "info").ok());
    }
};

std::string level_in(const json& answer, const std::string& module) {
    for (const auto& each : answer["modules"])
        if (each["module"] == module) return each["level"].get<std::string>();
    return "(not listed)";
}

TEST_F(LogLevelsApiTest, ListsTheControllersModulesAndTheirLevels) {
    const auto listed = call(bhttp::verb::get, "/api/v1/log-levels");
    ASSERT_EQ(listed.status, 200u) << listed.body.dump();
    EXPECT_EQ(listed.body["modules"][0]["module"], "transport");
    EXPECT_EQ(level_in(listed.body, "scheduler"), "info");
    EXPECT_EQ(level_in(listed.body, "http"), "info");
    EXPECT_EQ(level_in(listed.body, "spool"), "(not listed)");  // the agent's
    EXPECT_THAT(listed.body["modules"][0]["about"].get<std::string>(), HasSubstr("ZeroMQ"));
}

TEST_F(LogLevelsApiTest, SettingOneModulesLevelChangesItAloneAndIsAudited) {
    const auto set = call(bhttp::verb::put, "/api/v1/log-levels", kAdmin,
                          R"({"module":"scheduler","level":"debug"})");
    ASSERT_EQ(set.status, 200u) << set.body.dump();
    EXPECT_EQ(level_in(set.body, "scheduler"), "debug");
    EXPECT_EQ(level_in(set.body, "store"), "info");
    EXPECT_EQ(level_in(call(bhttp::verb::get, "/api/v1/log-levels").body, "scheduler"), "debug");

    const auto audit = call(bhttp::verb::get, "/api/v1/audit?kind=log.level_changed");
    ASSERT_EQ(audit.body["events"].size(), 1u) << audit.body.dump();
    const auto& event = audit.body["events"][0];
    EXPECT_EQ(event["actor"], "token:admin");
    EXPECT_EQ(event["subject"], "log:scheduler");
    EXPECT_EQ(event["detail"]["module"], "scheduler");
    EXPECT_EQ(event["detail"]["old"], "info");
    EXPECT_EQ(event["detail"]["new"], "debug");
}

TEST_F(LogLevelsApiTest, SettingTheLevelAloneSetsEveryModule) {
    ASSERT_EQ(call(bhttp::verb::put, "/api/v1/log-levels", kAdmin,
                   R"({"module":"store","level":"debug"})")
                  .status,
              200u);
    const auto set = call(bhttp::verb::put, "/api/v1/log-levels", kAdmin, R"({"level":"warn"})");
    ASSERT_EQ(set.status, 200u) << set.body.dump();
    for (const auto& each : set.body["modules"]) EXPECT_EQ(each["level"], "warn") << each.dump();
    // One row per module that changed.
    const auto audit = call(bhttp::verb::get, "/api/v1/audit?kind=log.level_changed");
    EXPECT_EQ(audit.body["events"].size(), set.body["modules"].size() + 1) << audit.body.dump();
}

TEST_F(LogLevelsApiTest, AnUnknownModuleOrLevelIs400NamingTheValidOnesAndChangesNothing) {
    const auto module = call(bhttp::verb::put, "/api/v1/log-levels", kAdmin,
                             R"({"module":"spool","level":"debug"})");
    EXPECT_EQ(module.status, 400u);
    EXPECT_THAT(error_message(module),
                HasSubstr("unknown log module 'spool' (transport, controller, agents, scheduler"));
    const auto level = call(bhttp::verb::put, "/api/v1/log-levels", kAdmin, R"({"level":"loud"})");
    EXPECT_EQ(level.status, 400u);
    EXPECT_EQ(error_message(level),
              "unknown log level 'loud' (trace, debug, info, warn, error, off)");
    for (const std::string body : {"[]", R"({"module":"http"})", R"({"level":3})",
                                   R"({"level":"info","colour":"red"})", "not json"})
        EXPECT_EQ(call(bhttp::verb::put, "/api/v1/log-levels", kAdmin, body).status, 400u) << body;
    const auto listed = call(bhttp::verb::get, "/api/v1/log-levels");
    for (const auto& each : listed.body["modules"]) EXPECT_EQ(each["level"], "info") << each.dump();
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/audit?kind=log.level_changed").body["events"].size(),
              0u);
}

TEST_F(LogLevelsApiTest, NeedsAToken) {
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/log-levels", "wrong").status, 401u);
    EXPECT_EQ(call(bhttp::verb::put, "/api/v1/log-levels", "wrong", R"({"level":"off"})").status,
              401u);
}

}  // namespace
}  // namespace hostline::controller
