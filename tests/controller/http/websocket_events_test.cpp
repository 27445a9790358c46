// GET /api/v1/jobs/{id}/events over a WebSocket, on the real pieces: an HttpServer on
// 127.0.0.1 port 0, a real Scheduler over the SQLite store, an agent played by the test (its
// messages fed in as the transport would), and Beast's WebSocket client. The io_context runs on
// its own thread; the test thread is the client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "controller/http/http_server.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;
using WebSocket = websocket::stream<tcp::socket>;

constexpr const char* kAdmin = "the-admin-token-for-these-tests";

// What a client saw on one WebSocket until it ended.
struct Received {
    std::vector<json> messages;
    beast::error_code error;           // why reading stopped
    websocket::close_reason reason{};  // the close frame, when error is websocket::error::closed
};

class WebSocketEventsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "websocket-events-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        auto store = Store::open((dir_ / "hostline.db").string(),
                                 [this](std::function<void()> f) { net::post(io_, std::move(f)); });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        SchedulerConfig scheduler_config;
        scheduler_config.output_cap_bytes = 32 << 20;  // room for the slow consumer's flood
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string&, proto::Message message) {
                if (auto* run = std::get_if<proto::Run>(&message)) runs_.push_back(*run);
            },
            scheduler_config);
        HttpConfig config;
        config.port = 0;
        config.admin_token = kAdmin;
        server_ = std::make_unique<HttpServer>(io_, *scheduler_, config);
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
        if (io_thread_.joinable()) {
            on_io([this] { server_.reset(); });
            // Commits still queued finish on the io thread and call into the scheduler (acks):
            // wait for them before it goes.
            std::promise<void> committed;
            on_io([&] { store_->flush([&] { committed.set_value(); }); });
            committed.get_future().get();
            on_io([this] { scheduler_.reset(); });
            work_.reset();
            io_thread_.join();
        }
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    // Runs f on the io thread and returns what it returns.
    template <typename F>
    auto on_io(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(io_, [&task] { task(); });
        return result.get();
    }

    // Submits `uptime` on web-1 and returns the job's id and the run the agent was sent.
    std::pair<std::int64_t, proto::Run> submit() {
        const auto reply = call("/api/v1/jobs", R"({"target": "web-1", "argv": ["uptime"]})");
        EXPECT_EQ(reply.result_int(), 201u) << reply.body();
        const auto job_id = json::parse(reply.body())["job"].get<std::int64_t>();
        for (int i = 0; i < 500; ++i) {
            auto sent = on_io([this] { return runs_; });
            for (const auto& run : sent) {
                if (static_cast<std::int64_t>(run.job_id) == job_id) return {job_id, run};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "job " << job_id << " was never dispatched";
        return {job_id, {}};
    }

    // Plays web-1 sending output for `run`.
    void agent_output(const proto::Run& run, std::uint64_t seq, std::string data) {
        on_io([this, run, seq, data = std::move(data)] {
            scheduler_->on_agent_message(
                "web-1", proto::Output{run.run_id, seq, "stdout", proto::Bytes{data}});
        });
    }

    // Plays web-1 reporting that `run` exited 0; seq follows its last output.
    void agent_exits(const proto::Run& run, std::uint64_t seq) {
        proto::RunResult result;
        result.run_id = run.run_id;
        result.seq = seq;
        result.status = "exited";
        result.exit_code = 0;
        result.started_at_ms = 1000;
        result.ended_at_ms = 1250;
        on_io([this, result] { scheduler_->on_agent_message("web-1", result); });
    }

    bhttp::response<bhttp::string_body> call(const std::string& target,
                                             const std::string& body = {}) {
        tcp::socket socket(client_io_);
        socket.connect({net::ip::make_address("127.0.0.1"), port_});
        bhttp::request<bhttp::string_body> request{
            body.empty() ? bhttp::verb::get : bhttp::verb::post, target, 11};
        request.set(bhttp::field::host, "127.0.0.1");
        request.set(bhttp::field::authorization, std::string("Bearer ") + kAdmin);
        request.body() = body;
        request.prepare_payload();
        bhttp::write(socket, request);
        beast::flat_buffer buffer;
        bhttp::response<bhttp::string_body> response;
        bhttp::read(socket, buffer, response);
        return response;
    }

    // A WebSocket client after its handshake to `target`: `error` is set if it failed, and
    // `response` is the server's answer either way.
    struct Client {
        std::unique_ptr<WebSocket> ws;
        websocket::response_type response;
        beast::error_code error;
    };

    Client open(const std::string& target, const std::optional<std::string>& token = kAdmin) {
        Client client{std::make_unique<WebSocket>(client_io_), {}, {}};
        auto& socket = client.ws->next_layer();
        socket.connect({net::ip::make_address("127.0.0.1"), port_});
        // A broken server fails the test instead of hanging it.
        const timeval limit{.tv_sec = 20, .tv_usec = 0};
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        client.ws->set_option(
            websocket::stream_base::decorator([token](websocket::request_type& request) {
                if (token) request.set(bhttp::field::authorization, "Bearer " + *token);
            }));
        // The asynchronous handshake, as Boost 1.74's synchronous one keeps the response only
        // when it succeeds.
        client.ws->async_handshake(client.response, "127.0.0.1:" + std::to_string(port_), target,
                                   [&client](beast::error_code ec) { client.error = ec; });
        client_io_.restart();
        client_io_.run();
        return client;
    }

    Client open_events(std::int64_t job_id) {
        auto client = open("/api/v1/jobs/" + std::to_string(job_id) + "/events");
        EXPECT_FALSE(client.error) << client.error.message() << ": " << client.response;
        return client;
    }

    // Reads one message, which must be a text message holding exactly one JSON object.
    static std::optional<json> read_message(WebSocket& ws, beast::error_code& error) {
        beast::flat_buffer buffer;
        ws.read(buffer, error);
        if (error) return std::nullopt;
        EXPECT_TRUE(ws.got_text());
        const auto text = beast::buffers_to_string(buffer.data());
        auto message = json::parse(text, nullptr, false);
        EXPECT_TRUE(message.is_object()) << text;
        EXPECT_EQ(text.find('\n'), std::string::npos) << "one line per message: " << text;
        return message;
    }

    // Reads messages up to and including the first of `type`.
    static std::vector<json> read_through(WebSocket& ws, const std::string& type) {
        std::vector<json> messages;
        beast::error_code error;
        while (auto message = read_message(ws, error)) {
            messages.push_back(*message);
            if ((*message)["type"] == type) return messages;
        }
        ADD_FAILURE() << "no '" << type << "' message before: " << error.message();
        return messages;
    }

    static Received read_to_end(WebSocket& ws) {
        Received received;
        while (auto message = read_message(ws, received.error)) {
            received.messages.push_back(*message);
        }
        received.reason = ws.reason();
        return received;
    }

    std::filesystem::path dir_;
    net::io_context io_{1};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<HttpServer> server_;
    std::vector<proto::Run> runs_;  // what the scheduler sent web-1; on the io thread
    std::uint16_t port_ = 0;
    std::thread io_thread_;
    net::io_context client_io_;  // for the client's blocking sockets
};

TEST_F(WebSocketEventsTest, EventsArriveAsOneJsonMessageEachThenANormalClose) {
    const auto [job_id, run] = submit();
    auto client = open_events(job_id);
    ASSERT_FALSE(client.error);
    EXPECT_EQ(client.response.result(), bhttp::status::switching_protocols);

    // The snapshot first: the dispatched run, then the job.
    const auto snapshot = read_through(*client.ws, "job");
    ASSERT_EQ(snapshot.size(), 2u);
    EXPECT_EQ(snapshot[0]["type"], "run");
    EXPECT_EQ(snapshot[0]["run"]["agent"], "web-1");
    EXPECT_EQ(snapshot[1]["job"]["id"], job_id);
    EXPECT_EQ(snapshot[1]["job"]["state"], "running");

    agent_output(run, 1, "hello\n");
    agent_output(run, 2, "world\n");
    agent_exits(run, 3);

    const auto live = read_to_end(*client.ws);
    EXPECT_EQ(live.error, websocket::error::closed) << live.error.message();
    EXPECT_EQ(live.reason.code, websocket::close_code::normal);
    std::vector<std::string> output;
    for (const auto& message : live.messages) {
        if (message["type"] == "output") output.push_back(message["data"]);
    }
    EXPECT_THAT(output, ::testing::ElementsAre("hello\n", "world\n"));
    ASSERT_GE(live.messages.size(), 4u);
    const auto& last_run = live.messages[live.messages.size() - 2];
    EXPECT_EQ(last_run["type"], "run");
    EXPECT_EQ(last_run["run"]["state"], "succeeded");
    EXPECT_EQ(last_run["run"]["exit_code"], 0);
    EXPECT_EQ(live.messages.back()["type"], "job");
    EXPECT_EQ(live.messages.back()["job"]["state"], "succeeded");
}

TEST_F(WebSocketEventsTest, AFinishedJobSendsItsSnapshotThenCloses) {
    const auto [job_id, run] = submit();
    agent_output(run, 1, "up 3 days\n");
    agent_exits(run, 2);

    auto client = open_events(job_id);
    const auto received = read_to_end(*client.ws);
    EXPECT_EQ(received.error, websocket::error::closed);
    EXPECT_EQ(received.reason.code, websocket::close_code::normal);
    ASSERT_EQ(received.messages.size(), 3u);
    EXPECT_EQ(received.messages[0]["type"], "run");
    EXPECT_EQ(received.messages[1]["data"], "up 3 days\n");
    EXPECT_EQ(received.messages[2]["job"]["state"], "succeeded");
}

TEST_F(WebSocketEventsTest, RefusedHandshakesGetTheHttpErrorStatus) {
    const auto [job_id, run] = submit();
    const auto target = "/api/v1/jobs/" + std::to_string(job_id) + "/events";

    const auto no_token = open(target, std::nullopt);
    EXPECT_EQ(no_token.error, websocket::error::upgrade_declined);
    EXPECT_EQ(no_token.response.result_int(), 401u);
    EXPECT_EQ(json::parse(no_token.response.body())["error"]["code"], "unauthorized");

    const auto wrong_token = open(target, "not-the-token");
    EXPECT_EQ(wrong_token.error, websocket::error::upgrade_declined);
    EXPECT_EQ(wrong_token.response.result_int(), 401u);

    const auto unknown_job = open("/api/v1/jobs/999/events");
    EXPECT_EQ(unknown_job.error, websocket::error::upgrade_declined);
    EXPECT_EQ(unknown_job.response.result_int(), 404u);
    EXPECT_EQ(json::parse(unknown_job.response.body())["error"]["code"], "not_found");
}

TEST_F(WebSocketEventsTest, AnUpgradeToAnyOtherPathIsAnsweredInPlainHttp) {
    const auto [job_id, run] = submit();
    const auto other = open("/api/v1/jobs/" + std::to_string(job_id));
    EXPECT_EQ(other.error, websocket::error::upgrade_declined);
    EXPECT_EQ(other.response.result_int(), 200u);
    EXPECT_EQ(json::parse(other.response.body())["job"]["id"], job_id);
    EXPECT_FALSE(other.response.keep_alive());

    const auto healthz = open("/healthz");
    EXPECT_EQ(healthz.error, websocket::error::upgrade_declined);
    EXPECT_EQ(healthz.response.result_int(), 200u);
}

TEST_F(WebSocketEventsTest, AClientThatDoesNotReadIsCutOffAsASlowConsumer) {
    const auto [job_id, run] = submit();
    auto client = open_events(job_id);
    read_through(*client.ws, "job");

    // 16 MiB of output at once, while the client reads nothing.
    on_io([this, run = run] {
        for (std::uint64_t seq = 1; seq <= 256; ++seq) {
            scheduler_->on_agent_message(
                "web-1", proto::Output{run.run_id, seq, "stdout",
                                       proto::Bytes{std::string(proto::kMaxChunkBytes, 'x')}});
        }
    });
    const auto received = read_to_end(*client.ws);
    EXPECT_EQ(received.error, websocket::error::closed) << received.error.message();
    EXPECT_EQ(received.reason.code, websocket::close_code::normal);
    ASSERT_FALSE(received.messages.empty());
    EXPECT_LT(received.messages.size(), 256u);
    EXPECT_EQ(received.messages.back()["type"], "error");
    EXPECT_EQ(received.messages.back()["error"]["code"], "slow_consumer");

    // The controller carries on: the job finishes, and a new client sees it end.
    agent_exits(run, 257);
    EXPECT_EQ(call("/healthz").result_int(), 200u);
    auto again = open_events(job_id);
    const auto snapshot_too_big = read_to_end(*again.ws);
    EXPECT_EQ(snapshot_too_big.messages.back()["error"]["code"], "slow_consumer");
}

TEST_F(WebSocketEventsTest, StoppingTheServerClosesAnOpenWebSocket) {
    const auto [job_id, run] = submit();
    auto client = open_events(job_id);
    read_through(*client.ws, "job");

    on_io([this] { server_->stop(); });
    const auto received = read_to_end(*client.ws);
    EXPECT_TRUE(received.messages.empty());
    EXPECT_TRUE(received.error);
    EXPECT_NE(received.error, websocket::error::closed) << "cut off, not ended";
    EXPECT_NE(received.error, net::error::would_block) << "still open: the read timed out";
}

TEST_F(WebSocketEventsTest, AnOversizedClientMessageClosesThatSocketOnly) {
    const auto [job_id, run] = submit();
    auto chatty = open_events(job_id);
    auto quiet = open_events(job_id);
    read_through(*chatty.ws, "job");
    read_through(*quiet.ws, "job");

    // Small messages from a client are read and ignored.
    chatty.ws->write(net::buffer(std::string("hello")));
    agent_output(run, 1, "one\n");
    beast::error_code error;
    auto message = read_message(*chatty.ws, error);
    ASSERT_TRUE(message) << error.message();
    EXPECT_EQ((*message)["data"], "one\n");

    chatty.ws->write(net::buffer(std::string(8 * 1024, 'y')));
    const auto cut = read_to_end(*chatty.ws);
    // Beast 1.74's server closes without waiting for the client's answer to its close frame,
    // so the client's read ends in an error rather than a clean close.
    EXPECT_TRUE(cut.error);
    EXPECT_TRUE(cut.messages.empty());
    EXPECT_EQ(cut.reason.code, websocket::close_code::too_big);

    agent_output(run, 2, "two\n");
    agent_exits(run, 3);
    const auto rest = read_to_end(*quiet.ws);
    EXPECT_EQ(rest.reason.code, websocket::close_code::normal);
    ASSERT_GE(rest.messages.size(), 3u);
    EXPECT_EQ(rest.messages[0]["data"], "one\n");
    EXPECT_EQ(rest.messages[1]["data"], "two\n");
    EXPECT_EQ(rest.messages.back()["job"]["state"], "succeeded");
}

}  // namespace
}  // namespace hostline::controller
