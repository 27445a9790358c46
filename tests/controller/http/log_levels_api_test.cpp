// GET and PUT /api/v1/log-levels over the real pieces: an HttpServer on port 0, the SQLite
// store and StoreAuditTrail (for log.level_changed), and the process's real module loggers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/log/log.hpp"
#include "controller/audit/store_audit_trail.hpp"
#include "controller/http/http_server.hpp"
#include "controller/policy/policy_file.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/tokens/token_registry.hpp"

namespace hostline::controller {
namespace {

namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAdmin = "the-admin-token-for-these-tests";

struct Answer {
    unsigned status = 0;
    json body;
};

class LogLevelsApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "log-levels-api-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        start();
    }

    void TearDown() override {
        stop();
        std::filesystem::remove_all(dir_);
    }

    // The controller's pieces as app.cpp wires them, over the database in dir_.
    void start() {
        auto store = Store::open((dir_ / "hostline.db").string(),
                                 [this](std::function<void()> f) { net::post(io_, std::move(f)); });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        audit_ = std::make_unique<StoreAuditTrail>(*store_);
        tokens_ = std::make_unique<TokenRegistry>(*store_, *audit_, snapshot->tokens);
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_, [](const std::string&, proto::Message) {}, SchedulerConfig{});
        HttpConfig config;
        config.port = 0;
        config.admin_token = kAdmin;
        server_ = std::make_unique<HttpServer>(io_, *scheduler_, config);
        server_->enable_audit(*audit_);
        server_->enable_tokens(*tokens_);
        // No policy file: only the admin token may act, and decisions are audited.
        policy_ = std::make_unique<PolicyFile>(
            "", target::Groups{}, std::set<std::string>{}, *audit_,
            [this](std::function<void()> f) { net::post(io_, std::move(f)); });
        server_->enable_policy(*policy_, *audit_);
        auto port = server_->start();
        ASSERT_TRUE(port.ok()) << port.error().message;
        port_ = *port;
        io_.restart();
        work_.emplace(net::make_work_guard(io_));
        io_thread_ = std::thread([this] { io_.run(); });
    }

    // Everything down, the store's queue committed.
    void stop() {
        if (!io_thread_.joinable()) return;
        // The server first; then the commits still queued, which finish on the io thread and
        // may call into the scheduler; then the scheduler.
        std::promise<void> committed;
        net::post(io_, [&] {
            server_.reset();
            store_->flush([&] {
                scheduler_.reset();
                committed.set_value();
            });
        });
        committed.get_future().get();
        work_.reset();
        io_thread_.join();
        tokens_.reset();
        policy_.reset();
        audit_.reset();
        // The levels are the process's: back to where other tests expect them.
        EXPECT_TRUE(log::setup("controller", "info").ok());
        store_.reset();
    }

    Answer call(bhttp::verb method, const std::string& target, const std::string& token = kAdmin,
                const std::string& body = {}) {
        net::io_context client;
        net::ip::tcp::socket socket(client);
        socket.connect({net::ip::make_address("127.0.0.1"), port_});
        bhttp::request<bhttp::string_body> request{method, target, 11};
        request.set(bhttp::field::host, "127.0.0.1");
        request.set(bhttp::field::authorization, "Bearer " + token);
        if (!body.empty()) request.set(bhttp::field::content_type, "application/json");
        request.body() = body;
        request.prepare_payload();
        bhttp::write(socket, request);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        bhttp::read(socket, buffer, response);
        return Answer{response.result_int(), json::parse(response.body(), nullptr, false)};
    }

    std::string create(const std::string& name, const std::string& ttl = "") {
        json body{{"name", name}, {"identity", "local:" + name}};
        if (!ttl.empty()) body["ttl"] = ttl;
        auto answer = call(bhttp::verb::post, "/api/v1/tokens", kAdmin, body.dump());
        EXPECT_EQ(answer.status, 201u) << answer.body.dump();
        return answer.body.value("secret", "");
    }

    std::string error_message(const Answer& answer) {
        return answer.body["error"]["message"].get<std::string>();
    }

    std::filesystem::path dir_;
    net::io_context io_{1};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<StoreAuditTrail> audit_;
    std::unique_ptr<TokenRegistry> tokens_;
    std::unique_ptr<PolicyFile> policy_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
    std::thread io_thread_;
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
