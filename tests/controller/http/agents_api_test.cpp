// One agent and draining over the real pieces: an HttpServer on port 0, a real Scheduler over
// the SQLite store and its audit trail, an agent played by the test (its hello fed in as the
// transport would), and a real HTTP client. The io_context runs on its own thread.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "controller/audit/store_audit_trail.hpp"
#include "controller/http/http_server.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using nlohmann::json;

constexpr const char* kAdmin = "the-admin-token-for-these-tests";

struct Answer {
    unsigned status = 0;
    json body;
};

class AgentsApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "agents-api-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        auto store = Store::open((dir_ / "hostline.db").string(),
                                 [this](std::function<void()> f) { net::post(io_, std::move(f)); });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        audit_ = std::make_unique<StoreAuditTrail>(*store_);
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_, [](const std::string&, proto::Message) {}, SchedulerConfig{},
            audit_.get());
        HttpConfig config;
        config.port = 0;
        config.admin_token = kAdmin;
        server_ = std::make_unique<HttpServer>(io_, *scheduler_, config);
        server_->enable_audit(*audit_);
        auto port = server_->start();
        ASSERT_TRUE(port.ok()) << port.error().message;
        port_ = *port;
        work_.emplace(net::make_work_guard(io_));
        io_thread_ = std::thread([this] { io_.run(); });
        on_io([this] {
            proto::Hello hello;
            hello.agent_id = "web-1";
            hello.capacity = 2;
            hello.hostname = "web-1.example";
            scheduler_->on_agent_message("web-1", hello);
        });
    }

    void TearDown() override {
        on_io([this] { server_.reset(); });
        // Commits still queued finish on the io thread and call into the scheduler (acks):
        // wait for them before it goes.
        std::promise<void> committed;
        on_io([&] { store_->flush([&] { committed.set_value(); }); });
        committed.get_future().get();
        on_io([this] { scheduler_.reset(); });
        work_.reset();
        io_thread_.join();
        audit_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
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

    Answer call(bhttp::verb method, const std::string& target, const std::string& body = {}) {
        net::io_context client;
        net::ip::tcp::socket socket(client);
        socket.connect({net::ip::make_address("127.0.0.1"), port_});
        bhttp::request<bhttp::string_body> request{method, target, 11};
        request.set(bhttp::field::host, "127.0.0.1");
        request.set(bhttp::field::authorization, std::string("Bearer ") + kAdmin);
        request.body() = body;
        request.prepare_payload();
        bhttp::write(socket, request);
        boost::beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        bhttp::read(socket, buffer, response);
        return Answer{response.result_int(), json::parse(response.body(), nullptr, false)};
    }

    std::filesystem::path dir_;
    net::io_context io_{1};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<StoreAuditTrail> audit_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
    std::thread io_thread_;
};

TEST_F(AgentsApiTest, OneAgentIsShownByNameAndAnUnknownOneIs404) {
    const auto one = call(bhttp::verb::get, "/api/v1/agents/web-1");
    ASSERT_EQ(one.status, 200u) << one.body.dump();
    EXPECT_EQ(one.body["agent"]["name"], "web-1");
    EXPECT_EQ(one.body["agent"]["hostname"], "web-1.example");
    EXPECT_EQ(one.body["agent"]["online"], true);
    EXPECT_EQ(one.body["agent"]["draining"], false);

    const auto unknown = call(bhttp::verb::get, "/api/v1/agents/db-9");
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(unknown.body["error"]["message"], "there is no agent named 'db-9'");
}

TEST_F(AgentsApiTest, ADrainedAgentIsSkippedByNewJobsUntilUndrained) {
    const auto drained = call(bhttp::verb::post, "/api/v1/agents/web-1/drain");
    ASSERT_EQ(drained.status, 200u) << drained.body.dump();
    EXPECT_EQ(drained.body["agent"]["draining"], true);
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents").body["agents"][0]["draining"], true);

    const auto submitted =
        call(bhttp::verb::post, "/api/v1/jobs", R"({"target": "web-1", "argv": ["uptime"]})");
    ASSERT_EQ(submitted.status, 201u) << submitted.body.dump();
    EXPECT_EQ(submitted.body["matched"], json::array());
    EXPECT_EQ(submitted.body["offline"], json::array({"web-1"}));
    const auto job =
        call(bhttp::verb::get, "/api/v1/jobs/" + std::to_string(submitted.body["job"].get<int>()));
    ASSERT_EQ(job.status, 200u);
    EXPECT_EQ(job.body["runs"][0]["state"], "skipped");
    EXPECT_EQ(job.body["runs"][0]["error"], "agent web-1 is draining");

    const auto undrained = call(bhttp::verb::post, "/api/v1/agents/web-1/undrain");
    ASSERT_EQ(undrained.status, 200u);
    EXPECT_EQ(undrained.body["agent"]["draining"], false);
    const auto after =
        call(bhttp::verb::post, "/api/v1/jobs", R"({"target": "web-1", "argv": ["uptime"]})");
    EXPECT_EQ(after.body["matched"], json::array({"web-1"}));

    const auto audit = call(bhttp::verb::get, "/api/v1/audit?kind=agent.drained");
    ASSERT_EQ(audit.body["events"].size(), 1u) << audit.body.dump();
    EXPECT_EQ(audit.body["events"][0]["actor"], "token:admin");
    EXPECT_EQ(audit.body["events"][0]["subject"], "agent:web-1");

    EXPECT_EQ(call(bhttp::verb::post, "/api/v1/agents/db-9/drain").status, 404u);
}

// A fleet is listed a page at a time by name; the pages together are every agent once.
TEST_F(AgentsApiTest, AgentsArePagedByNameWithNextAfter) {
    on_io([this] {
        for (const char* name : {"db-1", "db-2", "web-2", "web-3"}) {
            proto::Hello hello;
            hello.agent_id = name;
            hello.capacity = 1;
            scheduler_->on_agent_message(name, hello);
        }
    });
    const auto names = [](const json& page) {
        std::vector<std::string> out;
        for (const auto& agent : page["agents"]) out.push_back(agent["name"]);
        return out;
    };
    Answer first = call(bhttp::verb::get, "/api/v1/agents?limit=2");
    ASSERT_EQ(first.status, 200u) << first.body.dump();
    EXPECT_EQ(names(first.body), (std::vector<std::string>{"db-1", "db-2"}));
    EXPECT_EQ(first.body["next_after"], "db-2");
    EXPECT_TRUE(first.body["keys"].is_array());
    Answer second = call(bhttp::verb::get, "/api/v1/agents?limit=2&after=db-2");
    EXPECT_EQ(names(second.body), (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_EQ(second.body["next_after"], "web-2");
    Answer last = call(bhttp::verb::get, "/api/v1/agents?limit=2&after=web-2");
    EXPECT_EQ(names(last.body), (std::vector<std::string>{"web-3"}));
    EXPECT_TRUE(last.body["next_after"].is_null());
    // A name between two agents starts after it; past the last, the page is empty.
    EXPECT_EQ(names(call(bhttp::verb::get, "/api/v1/agents?after=db-9").body),
              (std::vector<std::string>{"web-1", "web-2", "web-3"}));
    EXPECT_EQ(names(call(bhttp::verb::get, "/api/v1/agents?after=zz").body),
              std::vector<std::string>{});
    // Default: a page of 500, so five agents come in one page.
    Answer all = call(bhttp::verb::get, "/api/v1/agents");
    EXPECT_EQ(all.body["agents"].size(), 5u);
    EXPECT_TRUE(all.body["next_after"].is_null());
}

TEST_F(AgentsApiTest, ABadPageOrAParameterGivenTwiceIs400) {
    Answer unknown = call(bhttp::verb::get, "/api/v1/agents?page=2");
    EXPECT_EQ(unknown.status, 400u);
    EXPECT_EQ(unknown.body["error"]["message"],
              "unknown query parameter 'page'; expected after or limit");
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents?limit=0").status, 400u);
    Answer twice = call(bhttp::verb::get, "/api/v1/jobs?state=failed&state=running");
    EXPECT_EQ(twice.status, 400u);
    EXPECT_EQ(twice.body["error"]["message"],
              "the query parameter 'state' is given twice; give it once (a list of states is "
              "comma-separated: state=failed,timed_out)");
}

}  // namespace
}  // namespace hostline::controller
