// An HttpServer on port 0 over the real pieces behind the API: the SQLite store, a real
// Scheduler, StoreAuditTrail and TokenRegistry (and, when asked, the policy without a file),
// wired as app.cpp wires them, its io_context on its own thread as in the controller; and a
// real HTTP client to call it. Shared by the API tests of tests/controller/http.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "controller/audit/store_audit_trail.hpp"
#include "controller/http/http_server.hpp"
#include "controller/policy/policy_file.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/tokens/token_registry.hpp"

namespace hostline::controller::api_test {

namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using nlohmann::json;

constexpr const char* kAdmin = "the-admin-token-for-these-tests";

struct Answer {
    unsigned status = 0;
    json body;
};

class ApiServerFixture : public ::testing::Test {
  protected:
    // prefix names the test's temporary directory; with_policy adds a PolicyFile without a
    // file (only the admin token may act, and decisions are audited), as the controller has
    // when controller.toml names no policy_file.
    ApiServerFixture(std::string prefix, bool with_policy)
        : prefix_(std::move(prefix)), with_policy_(with_policy) {}

    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (prefix_ + "-XXXXXX")).string();
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
            io_, *store_, [](const std::string&, proto::Message) {}, SchedulerConfig{},
            audit_.get());
        HttpConfig config;
        config.port = 0;
        config.admin_token = kAdmin;
        server_ = std::make_unique<HttpServer>(io_, *scheduler_, config);
        server_->enable_audit(*audit_);
        server_->enable_tokens(*tokens_);
        if (with_policy_) {
            policy_ = std::make_unique<PolicyFile>(
                "", target::Groups{}, std::set<std::string>{}, *audit_,
                [this](std::function<void()> f) { net::post(io_, std::move(f)); });
            server_->enable_policy(*policy_, *audit_);
        }
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
        store_.reset();
    }

    // Runs f on the io thread and waits for it, as the transport's messages arrive.
    void on_io(std::function<void()> f) {
        std::promise<void> done;
        net::post(io_, [&] {
            f();
            done.set_value();
        });
        done.get_future().get();
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

    const std::string prefix_;
    const bool with_policy_;
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

}  // namespace hostline::controller::api_test
