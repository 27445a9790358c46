// The real HttpServer on 127.0.0.1, port 0, over a fake JobService, driven by a real HTTP
// client. The server's io_context runs on its own thread, as in the controller; the test
// thread is the client and reaches the fake only through on_io().
#include "controller/http/http_server.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace hostline::controller {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using bhttp::field;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kToken = "s3cret-admin-token";

// ---------------------------------------------------------------------------------------
// A JobService over a few jobs held in maps. Asynchronous calls answer on a later turn of
// the loop, like the real one going to the store.
class FakeJobService final : public JobService {
  public:
    explicit FakeJobService(net::io_context& io) : io_(io) {}

    // Set up by the tests.
    std::map<std::int64_t, JobDetail> jobs;
    std::map<std::int64_t, std::vector<OutputChunk>> outputs;
    std::vector<AgentInfo> agent_list;
    std::vector<Job> listed;  // what list_jobs finds, before the limit
    bool snapshot_before_subscribed = false;

    // What the server asked for.
    std::optional<SubmitRequest> last_submit;
    std::optional<JobQuery> last_query;
    std::vector<std::uint64_t> unsubscribed;
    int range_reads = 0;         // output_range() calls
    int failing_range_read = 0;  // the call, counting from 1, that fails as a store would

    Result<SubmitReply> submit(const SubmitRequest& request) override {
        last_submit = request;
        if (request.target == "nothing-*") return fail("no agent matches 'nothing-*'");
        return SubmitReply{.job_id = 42, .matched = {"web-01"}, .offline = {"web-02"}};
    }

    void when_stored(std::function<void()> done) override { done(); }

    Result<void> cancel(std::int64_t job_id) override {
        const auto it = jobs.find(job_id);
        if (it == jobs.end()) return fail("no job #" + std::to_string(job_id));
        auto& job = it->second.job;
        if (is_final(job.state)) {
            return fail("job #" + std::to_string(job_id) + " is already " +
                        std::string(to_string(job.state)));
        }
        job.cancel_requested = true;
        return {};
    }

    std::vector<AgentInfo> agents() const override { return agent_list; }

    Result<AgentInfo> set_draining(const std::string& name, bool draining,
                                   const std::string&) override {
        for (auto& agent : agent_list) {
            if (agent.name != name) continue;
            agent.draining = draining;
            return agent;
        }
        return fail("there is no agent named '" + name + "'");
    }

    void list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) override {
        last_query = query;
        auto page = listed;
        if (page.size() > static_cast<std::size_t>(query.limit)) page.resize(query.limit);
        net::post(io_, [done = std::move(done), page] { done(page); });
    }

    void job(std::int64_t job_id, Callback<JobDetail> done) override {
        net::post(io_, [this, job_id, done = std::move(done)] {
            const auto it = jobs.find(job_id);
            if (it == jobs.end()) return done(fail("no job #" + std::to_string(job_id)));
            done(it->second);
        });
    }

    void output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) override {
        net::post(io_, [this, job_id, done = std::move(done)] {
            if (!jobs.contains(job_id)) return done(fail("no job #" + std::to_string(job_id)));
            done(outputs[job_id]);
        });
    }

    // As the store answers (Store::output_range): the host's chunks by run, then seq.
    void output_range(std::int64_t job_id, const OutputRange& range,
                      Callback<OutputSlice> done) override {
        const bool fails = ++range_reads == failing_range_read;
        net::post(io_, [this, job_id, range, fails, done = std::move(done)] {
            if (!jobs.contains(job_id)) return done(fail("no job #" + std::to_string(job_id)));
            if (fails) return done(fail("store: read failed: disk I/O error"));
            auto chunks = outputs[job_id];
            std::stable_sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) {
                return std::pair(a.run_id, a.seq) < std::pair(b.run_id, b.seq);
            });
            std::string bytes;
            for (const auto& chunk : chunks)
                if (chunk.agent == range.host &&
                    (range.stream == "combined" || chunk.stream == range.stream))
                    bytes += chunk.data;
            const auto total = static_cast<std::int64_t>(bytes.size());
            const auto from = std::min(range.offset, total);
            // A resumed read does not count to the end; a cursor says where the next one
            // resumes (this fake only needs its offset) while output is left.
            OutputSlice slice{.total = range.resume ? -1 : total,
                              .bytes = bytes.substr(from, range.length)};
            if (from + range.length < total)
                slice.next = OutputCursor{.start = from + range.length};
            done(std::move(slice));
        });
    }

    std::optional<std::string> active_requester(std::int64_t job_id) const override {
        const auto it = jobs.find(job_id);
        if (it == jobs.end() || is_final(it->second.job.state)) return std::nullopt;
        return it->second.job.requester;
    }

    void subscribe(std::int64_t job_id, std::function<void(const JobEvent&)> listener,
                   Callback<std::uint64_t> subscribed) override {
        net::post(io_, [this, job_id, listener = std::move(listener),
                        subscribed = std::move(subscribed)] {
            const auto it = jobs.find(job_id);
            if (it == jobs.end()) return subscribed(fail("no job #" + std::to_string(job_id)));
            const auto id = next_subscription_++;
            subscriptions_[id] = Subscription{job_id, listener};
            std::vector<JobEvent> snapshot;
            for (const auto& run : it->second.runs) snapshot.push_back({JobEvent::RunChanged{run}});
            for (const auto& chunk : outputs[job_id]) {
                snapshot.push_back({JobEvent::OutputAdded{chunk}});
            }
            snapshot.push_back({JobEvent::JobChanged{it->second.job}});
            if (!snapshot_before_subscribed) subscribed(id);
            for (const auto& event : snapshot) deliver(id, event);
            if (snapshot_before_subscribed) subscribed(id);
        });
    }

    void unsubscribe(std::uint64_t subscription) override {
        unsubscribed.push_back(subscription);
        subscriptions_.erase(subscription);
    }

    // What the scheduler would do as the job moves on: events to its subscribers, now...
    void emit(std::int64_t job_id, const std::vector<JobEvent>& events) {
        for (const auto& event : events) {
            std::vector<std::uint64_t> ids;
            for (const auto& [id, subscription] : subscriptions_) {
                if (subscription.job_id == job_id) ids.push_back(id);
            }
            for (const auto id : ids) deliver(id, event);
        }
    }

    // ... or after a delay, from a timer.
    void emit_later(std::int64_t job_id, std::vector<JobEvent> events,
                    std::chrono::milliseconds delay) {
        auto timer = std::make_shared<net::steady_timer>(io_, delay);
        timer->async_wait(
            [this, timer, job_id, events = std::move(events)](auto) { emit(job_id, events); });
    }

    std::size_t subscriber_count() const { return subscriptions_.size(); }

  private:
    struct Subscription {
        std::int64_t job_id = 0;
        std::function<void(const JobEvent&)> listener;
    };

    void deliver(std::uint64_t id, const JobEvent& event) {
        const auto it = subscriptions_.find(id);
        if (it == subscriptions_.end()) return;  // never after unsubscribe
        auto listener = it->second.listener;     // it may unsubscribe while we call it
        listener(event);
    }

    net::io_context& io_;
    std::uint64_t next_subscription_ = 1;
    std::map<std::uint64_t, Subscription> subscriptions_;
};

// An ApprovalDesk over one pending approval (#5, 2 needed), deciding by simple rules.
class FakeApprovalDesk final : public ApprovalDesk {
  public:
    FakeApprovalDesk() {
        pending.job_id = 5;
        pending.requester = "irc:alice";
        pending.source = "irc:#ops";
        pending.target = "role=web";
        pending.argv = {"systemctl", "restart", "nginx"};
        pending.hosts = {"web-01", "web-02"};
        pending.group = "ops";
        pending.count = 2;
        pending.expires_at_ms = 1700000600000;
    }

    Approval pending;
    std::optional<ApprovalState> last_state;
    std::optional<ApprovalQuery> last_query;
    std::string last_decider, last_reason;

    void list_approvals(const ApprovalQuery& query, Callback<std::vector<Approval>> done) override {
        last_query = query;
        last_state = query.states.empty() ? std::nullopt
                                          : std::optional<ApprovalState>(query.states.front());
        done(std::vector<Approval>{pending});
    }
    std::vector<Approval> pending_for(const std::string&) const override { return {pending}; }
    Result<Approval> approve(std::int64_t job_id, const std::string& approver) override {
        last_decider = approver;
        if (job_id == 6) return fail("you asked for job #6: the requester never counts");
        if (job_id != 5) return fail("no pending approval for job #" + std::to_string(job_id));
        Approval a = pending;
        a.votes.push_back({approver, true, "", 1});
        return a;
    }
    Result<Approval> deny(std::int64_t job_id, const std::string& approver,
                          const std::string& reason) override {
        last_decider = approver;
        last_reason = reason;
        if (job_id != 5) return fail("no pending approval for job #" + std::to_string(job_id));
        if (reason.empty()) return fail("say why you deny job #5: a reason is required");
        Approval a = pending;
        a.state = ApprovalState::denied;
        a.reason = "denied by " + approver + ": " + reason;
        return a;
    }
};

Job make_job(std::int64_t id, JobState state) {
    Job job{.id = id, .requester = "local:alice", .source = "cli", .target = "web-*"};
    job.argv = {"uptime"};
    job.state = state;
    job.timeout_ms = 30000;
    job.created_at_ms = 1700000000000;
    if (is_final(state)) job.finished_at_ms = 1700000005000;
    return job;
}

RunRecord make_run(std::int64_t id, std::int64_t job_id, RunState state) {
    RunRecord run{.id = id, .job_id = job_id, .agent = "web-01", .state = state};
    run.started_at_ms = 1700000001000;
    if (is_final(state)) {
        run.ended_at_ms = 1700000001250;
        run.exit_code = 0;
        run.stdout_bytes = 3;
    }
    return run;
}

OutputChunk make_chunk(std::int64_t run_id, std::uint64_t seq, std::string data) {
    return OutputChunk{
        .run_id = run_id, .agent = "web-01", .seq = seq, .stream = "stdout", .data = data};
}

using HttpResponse = bhttp::response<bhttp::string_body>;

// A client for a chunked event stream, reading it a piece at a time.
class StreamClient {
  public:
    explicit StreamClient(tcp::socket socket) : socket_(std::move(socket)) {
        parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
        parser_.on_chunk_body(on_chunk_);
    }

    void read_header() { bhttp::read_header(socket_, buffer_, parser_); }
    const bhttp::response_parser<bhttp::string_body>& parser() const { return parser_; }

    // Reads until at least `count` lines have come, or the response ends.
    std::vector<json> read_lines(std::size_t count) {
        while (lines_.size() < count && !parser_.is_done())
            bhttp::read_some(socket_, buffer_, parser_);
        return lines_;
    }
    std::vector<json> read_to_end() { return read_lines(std::numeric_limits<std::size_t>::max()); }

    // Reads whatever comes until the connection ends, for a stream that is cut off.
    const bhttp::response_parser<bhttp::string_body>& read_until_closed() {
        boost::system::error_code ec;
        while (!ec && !parser_.is_done()) bhttp::read_some(socket_, buffer_, parser_, ec);
        return parser_;
    }

    // Whether the server closed the connection after the response.
    bool closed_by_server() {
        char byte = 0;
        boost::system::error_code ec;
        socket_.read_some(net::buffer(&byte, 1), ec);
        return ec == net::error::eof;
    }

    void close() { socket_.close(); }

    // Another request on the same connection (sent while the stream is still going, it is
    // pipelined), and, once the stream has been read, its answer.
    void send_next(const std::string& target, const std::string& token) {
        bhttp::request<bhttp::string_body> request{bhttp::verb::get, target, 11};
        request.set(field::host, "127.0.0.1");
        request.set(field::authorization, "Bearer " + token);
        bhttp::write(socket_, request);
    }
    HttpResponse read_next() {
        HttpResponse response;
        bhttp::read(socket_, buffer_, response);
        return response;
    }
    HttpResponse next_response(const std::string& target, const std::string& token) {
        send_next(target, token);
        return read_next();
    }

  private:
    std::size_t on_chunk(std::string_view data) {
        text_.append(data);
        for (auto end = text_.find('\n'); end != std::string::npos; end = text_.find('\n')) {
            lines_.push_back(json::parse(text_.substr(0, end)));
            text_.erase(0, end + 1);
        }
        return data.size();
    }

    tcp::socket socket_;
    beast::flat_buffer buffer_;
    bhttp::response_parser<bhttp::string_body> parser_;
    std::function<std::size_t(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_ =
        [this](std::uint64_t, beast::string_view data, beast::error_code&) {
            return on_chunk(std::string_view(data.data(), data.size()));
        };
    std::string text_;
    std::vector<json> lines_;
};

class HttpServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fake_.jobs[7] =
            JobDetail{make_job(7, JobState::succeeded), {make_run(70, 7, RunState::succeeded)}};
        fake_.outputs[7] = {make_chunk(70, 1, "up\xff\xfe 3 days\n")};
        fake_.jobs[8] =
            JobDetail{make_job(8, JobState::running), {make_run(80, 8, RunState::running)}};
        fake_.outputs[8] = {make_chunk(80, 1, "first\n")};
        fake_.agent_list = {
            AgentInfo{.name = "web-02", .online = false, .hostname = "web-02.example"},
            AgentInfo{.name = "db-01", .online = true, .hostname = "db-01.example", .capacity = 4},
            AgentInfo{.name = "web-01", .online = true, .hostname = "web-01.example"},
        };
        fake_.agent_list[1].labels = {{"role", "db"}};

        HttpConfig config;
        config.port = 0;
        config.admin_token = kToken;
        server_ = std::make_unique<HttpServer>(io_, fake_, config);
        server_->enable_approvals(desk_);
        server_->enable_metrics([] { return std::string("hostline_things_total 3\n"); }, false);
        auto port = server_->start();
        ASSERT_TRUE(port.ok()) << port.error().message;
        port_ = *port;
        io_thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        if (!io_thread_.joinable()) return;
        on_io([this] { server_.reset(); });
        work_.reset();
        io_thread_.join();
    }

    // Runs f on the server's thread and returns what it returns.
    template <typename F>
    auto on_io(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(io_, [&task] { task(); });
        return result.get();
    }

    // Waits up to 5 s for a condition checked on the server's thread.
    template <typename F>
    bool eventually(F condition) {
        for (int i = 0; i < 500; ++i) {
            if (on_io(condition)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    tcp::socket connect(std::uint16_t port = 0) {
        tcp::socket socket(client_io_);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port ? port : port_));
        return socket;
    }

    static void write_request(tcp::socket& socket, bhttp::verb method, const std::string& target,
                              const std::string& body, const std::optional<std::string>& token) {
        bhttp::request<bhttp::string_body> request{method, target, 11};
        request.set(field::host, "127.0.0.1");
        if (token) request.set(field::authorization, "Bearer " + *token);
        if (!body.empty()) request.set(field::content_type, "application/json");
        request.body() = body;
        request.prepare_payload();
        bhttp::write(socket, request);
    }

    HttpResponse call(bhttp::verb method, const std::string& target, const std::string& body = {},
                      const std::optional<std::string>& token = kToken, std::uint16_t port = 0) {
        auto socket = connect(port);
        write_request(socket, method, target, body, token);
        beast::flat_buffer buffer;
        HttpResponse response;
        bhttp::read(socket, buffer, response);
        return response;
    }

    StreamClient open_events(std::int64_t job_id) {
        auto socket = connect();
        write_request(socket, bhttp::verb::get,
                      "/api/v1/jobs/" + std::to_string(job_id) + "/events", {}, kToken);
        return StreamClient(std::move(socket));
    }

    static json body_of(const HttpResponse& response) { return json::parse(response.body()); }

    static void expect_error(const HttpResponse& response, unsigned status, const std::string& code,
                             const std::string& message_part = "") {
        EXPECT_EQ(response.result_int(), status);
        EXPECT_EQ(response[field::content_type], "application/json");
        const auto body = json::parse(response.body(), nullptr, false);
        ASSERT_TRUE(body.is_object()) << response.body();
        EXPECT_EQ(body["error"]["code"], code) << response.body();
        ASSERT_TRUE(body["error"]["message"].is_string()) << response.body();
        EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr(message_part));
    }

    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
    FakeJobService fake_{io_};
    FakeApprovalDesk desk_;
    std::unique_ptr<HttpServer> server_;
    std::uint16_t port_ = 0;
    std::thread io_thread_;
    net::io_context client_io_;                  // for the client's blocking sockets
    std::unique_ptr<HttpServer> policy_server_;  // a second server, for policy tests
};

// ---------------------------------------------------------------------------------------

TEST_F(HttpServerTest, HealthzNeedsNoToken) {
    const auto response = call(bhttp::verb::get, "/healthz", {}, std::nullopt);
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), "ok\n");
    EXPECT_EQ(response[field::content_type], "text/plain");
    EXPECT_EQ(response[field::cache_control], "no-store");
    EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(response[field::server], "hostline");
}

TEST_F(HttpServerTest, MissingTokenIs401WithJsonError) {
    const auto response = call(bhttp::verb::get, "/api/v1/agents", {}, std::nullopt);
    expect_error(response, 401, "unauthorized", "Authorization: Bearer");
    EXPECT_EQ(response[field::www_authenticate], "Bearer realm=\"hostline\"");
    EXPECT_EQ(response[field::cache_control], "no-store");
}

TEST_F(HttpServerTest, WrongTokenIs401) {
    expect_error(call(bhttp::verb::get, "/api/v1/agents", {}, "wrong"), 401, "unauthorized");
    // A prefix of the right token is as wrong as any other.
    expect_error(call(bhttp::verb::get, "/api/v1/agents", {}, std::string(kToken).substr(0, 5)),
                 401, "unauthorized");
    // Nothing reaches the service without the token, not even a submit.
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", R"({"target":"*","argv":["id"]})", "x"),
                 401, "unauthorized");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, AgentsAreListedSortedByName) {
    const auto response = call(bhttp::verb::get, "/api/v1/agents");
    ASSERT_EQ(response.result_int(), 200u);
    const auto agents = body_of(response)["agents"];
    ASSERT_EQ(agents.size(), 3u);
    EXPECT_EQ(agents[0]["name"], "db-01");
    EXPECT_EQ(agents[1]["name"], "web-01");
    EXPECT_EQ(agents[2]["name"], "web-02");
    EXPECT_EQ(agents[0]["labels"], json({{"role", "db"}}));
    EXPECT_EQ(agents[0]["capacity"], 4);
    EXPECT_EQ(agents[2]["online"], false);
    for (const char* key : {"hostname", "version", "facts", "running", "last_seen_ms"}) {
        EXPECT_TRUE(agents[0].contains(key)) << key;
    }
}

TEST_F(HttpServerTest, SubmitPassesTargetArgvAndTimeoutToTheService) {
    const auto response = call(bhttp::verb::post, "/api/v1/jobs",
                               R"({"target": "web-*", "argv": ["uptime", "-p"], "timeout_ms": 30000,
                 "env": {"LANG": "C"}, "cwd": "/tmp"})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    EXPECT_EQ(body_of(response),
              json({{"job", 42}, {"matched", {"web-01"}}, {"offline", {"web-02"}}}));
    EXPECT_EQ(response[field::location], "/api/v1/jobs/42");

    const auto submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted);
    EXPECT_EQ(submitted->target, "web-*");
    EXPECT_EQ(submitted->argv, (std::vector<std::string>{"uptime", "-p"}));
    EXPECT_EQ(submitted->timeout_ms, 30000);
    EXPECT_EQ(submitted->env, (std::map<std::string, std::string>{{"LANG", "C"}}));
    EXPECT_EQ(submitted->cwd, "/tmp");
    EXPECT_EQ(submitted->requester, "token:admin");
    EXPECT_EQ(submitted->source, "api");
}

TEST_F(HttpServerTest, PolicyReloadAnswersWithTheFileOrItsErrors) {
    // The fixture's server has no policy file: only the admin token may act, and there is
    // nothing to reload.
    expect_error(call(bhttp::verb::post, "/api/v1/policy/reload"), 409, "conflict",
                 "no policy file is configured");

    char tmpl[] = "/tmp/hostline-http-policy-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string path = dir + "/policy.toml";
    std::ofstream(path) << "[roles.ops]\npermissions = [\"jobs.read\"]\n";
    NoAuditTrail audit;
    auto [policy, port] = on_io([&] {
        auto file = std::make_unique<PolicyFile>(
            path, target::Groups{}, std::set<std::string>{}, audit,
            [this](std::function<void()> f) { net::post(io_, std::move(f)); });
        EXPECT_TRUE(file->load().ok());
        HttpConfig config;
        config.port = 0;
        config.admin_token = kToken;
        auto server = std::make_unique<HttpServer>(io_, fake_, config);
        server->enable_policy(*file, audit);
        auto bound = server->start();
        policy_server_ = std::move(server);
        return std::pair{std::move(file), bound.ok() ? *bound : std::uint16_t{0}};
    });
    ASSERT_NE(port, 0);

    auto response = call(bhttp::verb::post, "/api/v1/policy/reload", {}, kToken, port);
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    EXPECT_EQ(body_of(response), json({{"reloaded", path}}));

    std::ofstream(path) << "[roles.ops]\npermissions = [\"jobs.raed\"]\n";
    response = call(bhttp::verb::post, "/api/v1/policy/reload", {}, kToken, port);
    expect_error(response, 422, "invalid",
                 "the policy file was refused; the policy in force stays:\n" + path +
                     ": roles.ops.permissions: unknown permission 'jobs.raed'");
    expect_error(call(bhttp::verb::post, "/api/v1/policy/reload", {}, "wrong", port), 401,
                 "unauthorized");
    on_io([&] {
        policy_server_.reset();
        policy.reset();
        return 0;
    });
    std::filesystem::remove_all(dir);
}

TEST_F(HttpServerTest, SubmitWithoutOptionalFieldsLeavesThemEmpty) {
    const auto response =
        call(bhttp::verb::post, "/api/v1/jobs", R"({"target":"*","argv":["id"]})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    const auto submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted);
    EXPECT_FALSE(submitted->timeout_ms.has_value());
    EXPECT_TRUE(submitted->env.empty());
    EXPECT_TRUE(submitted->cwd.empty());
    EXPECT_TRUE(submitted->run_as_user.empty());
    EXPECT_TRUE(submitted->run_as_group.empty());
}

TEST_F(HttpServerTest, SubmitPassesUserAndGroupToTheService) {
    auto response = call(bhttp::verb::post, "/api/v1/jobs",
                         R"({"target":"*","argv":["id"],"user":"deploy","group":"www-data"})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    auto submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted);
    EXPECT_EQ(submitted->run_as_user, "deploy");
    EXPECT_EQ(submitted->run_as_group, "www-data");

    // null is the same as absent.
    response = call(bhttp::verb::post, "/api/v1/jobs",
                    R"({"target":"*","argv":["id"],"user":null,"group":"adm"})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted);
    EXPECT_EQ(submitted->run_as_user, "");
    EXPECT_EQ(submitted->run_as_group, "adm");
}

TEST_F(HttpServerTest, SubmitPassesTheRolloutToTheService) {
    auto response = call(bhttp::verb::post, "/api/v1/jobs",
                         R"({"target":"*","argv":["id"],"batch":"25%","batch_wait_ms":30000,)"
                         R"("fail_fast":true})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    auto submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted && submitted->batch);
    EXPECT_EQ(submitted->batch->size, 25u);
    EXPECT_TRUE(submitted->batch->percent);
    EXPECT_EQ(submitted->batch_wait, std::chrono::seconds(30));
    EXPECT_TRUE(submitted->fail_fast);

    response = call(bhttp::verb::post, "/api/v1/jobs", R"({"target":"*","argv":["id"],"batch":2})");
    ASSERT_EQ(response.result_int(), 201u) << response.body();
    submitted = on_io([this] { return fake_.last_submit; });
    ASSERT_TRUE(submitted && submitted->batch);
    EXPECT_EQ(submitted->batch->size, 2u);
    EXPECT_FALSE(submitted->batch->percent);
    EXPECT_FALSE(submitted->fail_fast);
}

TEST_F(HttpServerTest, SubmitWithABadRolloutIs400NamingTheField) {
    const auto submit = [this](const std::string& body) {
        return call(bhttp::verb::post, "/api/v1/jobs", body);
    };
    expect_error(submit(R"({"target":"*","argv":["id"],"batch":"half"})"), 400, "bad_request",
                 "--batch 'half' is not a batch size");
    expect_error(submit(R"({"target":"*","argv":["id"],"batch":0})"), 400, "bad_request",
                 "--batch must be at least 1 (or 1%)");
    expect_error(submit(R"({"target":"*","argv":["id"],"batch":true})"), 400, "bad_request",
                 "batch must be a number of hosts");
    expect_error(submit(R"({"target":"*","argv":["id"],"batch":2,"batch_wait_ms":-1})"), 400,
                 "bad_request", "batch_wait_ms must be a non-negative integer");
    expect_error(submit(R"({"target":"*","argv":["id"],"fail_fast":"yes"})"), 400, "bad_request",
                 "fail_fast must be true or false");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, SubmitWithANonStringUserOrGroupIs400NamingTheField) {
    const auto submit = [this](const std::string& body) {
        return call(bhttp::verb::post, "/api/v1/jobs", body);
    };
    expect_error(submit(R"({"target":"*","argv":["id"],"user":0})"), 400, "bad_request",
                 "user must be a string");
    expect_error(submit(R"({"target":"*","argv":["id"],"user":["root"]})"), 400, "bad_request",
                 "user must be a string");
    expect_error(submit(R"({"target":"*","argv":["id"],"group":{}})"), 400, "bad_request",
                 "group must be a string");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, SubmitWithBadArgvIs400NamingTheField) {
    const auto submit = [this](const std::string& body) {
        return call(bhttp::verb::post, "/api/v1/jobs", body);
    };
    expect_error(submit(R"({"target":"web-*","argv":[]})"), 400, "bad_request", "argv");
    expect_error(submit(R"({"target":"web-*","argv":"uptime"})"), 400, "bad_request", "argv");
    expect_error(submit(R"({"target":"web-*","argv":["ls", 1]})"), 400, "bad_request", "argv[1]");
    expect_error(submit(R"({"target":"web-*"})"), 400, "bad_request", "argv is required");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, SubmitWithOtherBadFieldsIs400NamingTheField) {
    const auto submit = [this](const std::string& body) {
        return call(bhttp::verb::post, "/api/v1/jobs", body);
    };
    expect_error(submit(R"({"argv":["id"]})"), 400, "bad_request", "target");
    expect_error(submit(R"({"target":"","argv":["id"]})"), 400, "bad_request", "target");
    expect_error(submit(R"({"target":7,"argv":["id"]})"), 400, "bad_request", "target");
    expect_error(submit(R"({"target":"*","argv":["id"],"timeout_ms":0})"), 400, "bad_request",
                 "timeout_ms");
    expect_error(submit(R"({"target":"*","argv":["id"],"timeout_ms":1.5})"), 400, "bad_request",
                 "timeout_ms");
    expect_error(submit(R"({"target":"*","argv":["id"],"timeout_ms":"30s"})"), 400, "bad_request",
                 "timeout_ms");
    expect_error(submit(R"({"target":"*","argv":["id"],"env":{"A":1}})"), 400, "bad_request",
                 "env.A");
    expect_error(submit(R"({"target":"*","argv":["id"],"cwd":[]})"), 400, "bad_request", "cwd");
    expect_error(submit(R"({"target":"*","argv":["id"],"timeout":5})"), 400, "bad_request",
                 "unknown field 'timeout'");
    expect_error(submit(R"(["id"])"), 400, "bad_request", "JSON object");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, SubmitRefusedByTheServiceIs400WithItsMessage) {
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", R"({"target":"nothing-*","argv":["id"]})"),
                 400, "bad_request", "no agent matches 'nothing-*'");
}

TEST_F(HttpServerTest, MalformedJsonIs400) {
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", R"({"target": "web-*", "argv": [)"), 400,
                 "bad_request", "not valid JSON");
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", ""), 400, "bad_request", "not valid JSON");
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", "{\"target\": \"\xff\"}"), 400,
                 "bad_request", "not valid JSON");
    EXPECT_FALSE(on_io([this] { return fake_.last_submit.has_value(); }));
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
    std::unique_ptr<HttpServer> small;
    const auto port = on_io([&] {
        HttpConfig config;
        config.port = 0;
        config.admin_token = kToken;
        config.max_body_bytes = 1024;
        small = std::make_unique<HttpServer>(io_, fake_, config);
        return small->start();
    });
    ASSERT_TRUE(port.ok()) << port.error().message;

    const std::string body = R"({"target":"*","argv":[")" + std::string(4096, 'x') + "\"]}";
    expect_error(call(bhttp::verb::post, "/api/v1/jobs", body, kToken, *port), 413, "too_large",
                 "1024 bytes");
    // At the limit is fine.
    const std::string fits = R"({"target":"*","argv":[")" + std::string(1024 - 26, 'x') + "\"]}";
    ASSERT_EQ(fits.size(), 1024u);
    EXPECT_EQ(call(bhttp::verb::post, "/api/v1/jobs", fits, kToken, *port).result_int(), 201u);
    on_io([&] { small.reset(); });
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
    auto socket = connect();
    const std::string body = R"({"target":"*","argv":["id"]})";
    net::write(socket,
               net::buffer("POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           std::string(kToken) + "\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n"));
    std::string interim;
    const auto end = net::read_until(socket, net::dynamic_buffer(interim), "\r\n\r\n");
    EXPECT_EQ(interim.substr(0, end), "HTTP/1.1 100 Continue\r\n\r\n");
    net::write(socket, net::buffer(body));
    beast::flat_buffer buffer;
    buffer.commit(
        net::buffer_copy(buffer.prepare(interim.size() - end), net::buffer(interim.substr(end))));
    HttpResponse response;
    bhttp::read(socket, buffer, response);
    EXPECT_EQ(response.result_int(), 201u) << response.body();
}

TEST_F(HttpServerTest, UnknownJobIs404) {
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/999"), 404, "not_found", "no job #999");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/999/output"), 404, "not_found");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/999/events"), 404, "not_found");
    expect_error(call(bhttp::verb::post, "/api/v1/jobs/999/cancel"), 404, "not_found");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/abc"), 400, "bad_request", "'abc'");
}

TEST_F(HttpServerTest, JobIsShownWithItsRuns) {
    const auto response = call(bhttp::verb::get, "/api/v1/jobs/7");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    const auto body = body_of(response);
    EXPECT_EQ(body["job"]["id"], 7);
    EXPECT_EQ(body["job"]["state"], "succeeded");
    EXPECT_EQ(body["job"]["argv"], json({"uptime"}));
    EXPECT_EQ(body["job"]["requester"], "local:alice");
    ASSERT_EQ(body["runs"].size(), 1u);
    const auto run = body["runs"][0];
    EXPECT_EQ(run["id"], 70);
    EXPECT_EQ(run["agent"], "web-01");
    EXPECT_EQ(run["exit_code"], 0);
    EXPECT_TRUE(run["signal"].is_null());
    EXPECT_EQ(run["duration_ms"], 250);
}

TEST_F(HttpServerTest, CancelFinishedJobIs409) {
    expect_error(call(bhttp::verb::post, "/api/v1/jobs/7/cancel"), 409, "conflict",
                 "already succeeded");

    const auto response = call(bhttp::verb::post, "/api/v1/jobs/8/cancel");
    ASSERT_EQ(response.result_int(), 202u) << response.body();
    EXPECT_EQ(body_of(response), json({{"job", 8}, {"state", "cancelling"}}));
    EXPECT_TRUE(on_io([this] { return fake_.jobs[8].job.cancel_requested; }));
}

TEST_F(HttpServerTest, ListJobsPassesFiltersAndReturnsNextBefore) {
    on_io([this] {
        fake_.listed = {make_job(99, JobState::running), make_job(97, JobState::running),
                        make_job(90, JobState::running)};
    });
    auto response = call(bhttp::verb::get,
                         "/api/v1/jobs?state=running&agent=web%2D01&before=100&limit=2"
                         "&requester=irc%3Aalice%21a%40example.org");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    auto body = body_of(response);
    ASSERT_EQ(body["jobs"].size(), 2u);
    EXPECT_EQ(body["jobs"][0]["id"], 99);
    EXPECT_EQ(body["next_before"], 97);
    const auto query = on_io([this] { return fake_.last_query; });
    ASSERT_TRUE(query);
    EXPECT_EQ(query->states, std::vector<JobState>{JobState::running});
    EXPECT_EQ(query->agent, "web-01");
    EXPECT_EQ(query->requester, "irc:alice!a@example.org");
    EXPECT_EQ(query->before_id, 100);
    EXPECT_EQ(query->limit, 2);

    // A short page is the last one.
    response = call(bhttp::verb::get, "/api/v1/jobs");
    body = body_of(response);
    EXPECT_EQ(body["jobs"].size(), 3u);
    EXPECT_TRUE(body["next_before"].is_null());
    EXPECT_EQ(on_io([this] { return fake_.last_query->limit; }), 50);
}

TEST_F(HttpServerTest, ListJobsPassesStatesHostCommandAndTimeToTheQuery) {
    auto response = call(bhttp::verb::get,
                         "/api/v1/jobs?state=failed,timed_out&host=db-01&command=bounce"
                         "&since=1700000000000&until=1700000060000");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    const auto query = on_io([this] { return fake_.last_query; });
    ASSERT_TRUE(query);
    EXPECT_EQ(query->states, (std::vector<JobState>{JobState::failed, JobState::timed_out}));
    EXPECT_EQ(query->agent, "db-01");
    EXPECT_EQ(query->command, "bounce");
    EXPECT_EQ(query->since_ms, 1'700'000'000'000);
    EXPECT_EQ(query->until_ms, 1'700'000'060'000);

    expect_error(call(bhttp::verb::get, "/api/v1/jobs?state=failed,sleeping"), 400, "bad_request",
                 "state 'sleeping' is not a job state");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?state="), 400, "bad_request",
                 "state '' is not a job state");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?since=yesterday"), 400, "bad_request",
                 "since must be a time in milliseconds");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?until=-5"), 400, "bad_request",
                 "until must be a time in milliseconds");
}

TEST_F(HttpServerTest, ListJobsWithBadFiltersIs400) {
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?state=sleeping"), 400, "bad_request",
                 "state 'sleeping'");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?before=ten"), 400, "bad_request", "before");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?limit=x"), 400, "bad_request", "limit");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?limit=0"), 400, "bad_request", "limit");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?limit=501"), 400, "bad_request", "limit");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?agent=%zz"), 400, "bad_request", "%");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs?sort=id"), 400, "bad_request", "'sort'");
}

TEST_F(HttpServerTest, OutputWithInvalidUtf8IsReplacedNotAnError) {
    const auto response = call(bhttp::verb::get, "/api/v1/jobs/7/output");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    const auto output = body_of(response)["output"];
    ASSERT_EQ(output.size(), 1u);
    EXPECT_EQ(output[0]["run_id"], 70);
    EXPECT_EQ(output[0]["agent"], "web-01");
    EXPECT_EQ(output[0]["seq"], 1);
    EXPECT_EQ(output[0]["stream"], "stdout");
    EXPECT_EQ(output[0]["data"], "up\xEF\xBF\xBD\xEF\xBF\xBD 3 days\n");
}

// Retries (docs/scheduling.md): a host with two attempts has two runs; its output is the
// first attempt's, then the second's, never their chunks interleaved by seq.
TEST_F(HttpServerTest, AHostsOutputWithTwoAttemptsIsEachAttemptWholeInOrder) {
    on_io([this] {
        fake_.outputs[7] = {make_chunk(70, 1, "first "), make_chunk(71, 1, "second try\n"),
                            make_chunk(70, 2, "try\n")};
    });
    auto body = body_of(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01"));
    EXPECT_EQ(body["data"], "first try\nsecond try\n");
}

TEST_F(HttpServerTest, OutputRangeIsOneRunsBytesWithTheTotal) {
    on_io([this] {
        fake_.outputs[7] = {make_chunk(70, 2, "world\n"), make_chunk(70, 1, "hello ")};
        fake_.outputs[7].push_back(OutputChunk{
            .run_id = 70, .agent = "web-01", .seq = 3, .stream = "stderr", .data = "oops\n"});
    });
    auto response = call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01&offset=3&length=6");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    auto body = body_of(response);
    EXPECT_EQ(body["data"], "lo wor");
    EXPECT_EQ(body["offset"], 3);
    EXPECT_EQ(body["length"], 6);
    EXPECT_EQ(body["total"], 17);  // "hello world\n" and "oops\n", in seq order
    EXPECT_EQ(body["stream"], "combined");

    body = body_of(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01&stream=stderr"));
    EXPECT_EQ(body["data"], "oops\n");
    EXPECT_EQ(body["total"], 5);
    // Past the end: nothing, and the total to know it.
    body = body_of(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01&offset=99"));
    EXPECT_EQ(body["data"], "");
    EXPECT_EQ(body["offset"], 17);
    EXPECT_EQ(body["length"], 0);

    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output?offset=1"), 400, "bad_request",
                 "host is required");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01&length=-1"), 400,
                 "bad_request", "length must be");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=web-01&stream=both"), 400,
                 "bad_request", "stream must be");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output?host=db-01"), 404, "not_found",
                 "job 7 has no run on 'db-01'");
}

TEST_F(HttpServerTest, OutputDownloadIsTheRawBytesAsAFile) {
    const auto response = call(bhttp::verb::get, "/api/v1/jobs/7/output/download?host=web-01");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    EXPECT_EQ(response.body(), "up\xff\xfe 3 days\n");  // not replaced: the bytes as stored
    EXPECT_EQ(response[field::content_type], "text/plain; charset=utf-8");
    EXPECT_EQ(response[field::content_disposition], "attachment; filename=\"job-7-web-01.log\"");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output/download?host=evil%0d%0aX:1"), 404,
                 "not_found");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output/download"), 400, "bad_request",
                 "host is required");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/999/output/download?host=web-01"), 404,
                 "not_found");
}

// 2.5 MiB: more than one piece of a download (1 MiB), which is read and sent one at a time.
TEST_F(HttpServerTest, AnOutputDownloadLargerThanOnePieceComesWholeReadAPieceAtATime) {
    std::string expected;
    on_io([&] {
        fake_.outputs[7].clear();
        for (std::uint64_t seq = 1; seq <= 40; ++seq) {
            std::string data(64 * 1024, static_cast<char>('a' + seq % 26));
            data.back() = '\n';
            expected += data;
            fake_.outputs[7].push_back(make_chunk(70, seq, std::move(data)));
        }
        fake_.range_reads = 0;
    });
    const auto response = call(bhttp::verb::get, "/api/v1/jobs/7/output/download?host=web-01");
    ASSERT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body().size(), expected.size());
    EXPECT_TRUE(response.body() == expected);
    EXPECT_EQ(response[field::content_type], "text/plain; charset=utf-8");
    EXPECT_EQ(response[field::content_disposition], "attachment; filename=\"job-7-web-01.log\"");
    EXPECT_EQ(on_io([this] { return fake_.range_reads; }), 3);  // 1 MiB, 1 MiB, 0.5 MiB
}

// The 200 is sent with the first piece: a later read that fails must not end the file as if
// it were whole.
TEST_F(HttpServerTest, AnOutputDownloadWhoseReadFailsHalfwayIsCutShortNotEnded) {
    on_io([&] {
        fake_.outputs[7] = {make_chunk(70, 1, std::string(1 << 20, 'a')),
                            make_chunk(70, 2, std::string(1 << 20, 'b'))};
        fake_.range_reads = 0;
        fake_.failing_range_read = 2;
    });
    auto socket = connect();
    write_request(socket, bhttp::verb::get, "/api/v1/jobs/7/output/download?host=web-01", {},
                  kToken);
    StreamClient client(std::move(socket));
    client.read_header();
    EXPECT_EQ(client.parser().get().result_int(), 200u);
    const auto& parser = client.read_until_closed();
    EXPECT_FALSE(parser.is_done());  // no last chunk: the client knows the file is incomplete
    EXPECT_EQ(on_io([this] { return fake_.range_reads; }), 2);

    // The first read failing is still an error response.
    on_io([this] {
        fake_.range_reads = 0;
        fake_.failing_range_read = 1;
    });
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/output/download?host=web-01"), 500,
                 "internal", "disk I/O error");
}

TEST_F(HttpServerTest, EventsStreamSnapshotThenLiveThenEnds) {
    auto client = open_events(8);
    client.read_header();
    EXPECT_EQ(client.parser().get().result_int(), 200u);
    EXPECT_EQ(client.parser().get()[field::content_type], "application/x-ndjson");
    EXPECT_TRUE(client.parser().get().chunked());
    EXPECT_EQ(client.parser().get()[field::cache_control], "no-store");

    // The snapshot arrives before anything more happens to the job.
    auto lines = client.read_lines(3);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["type"], "run");
    EXPECT_EQ(lines[0]["run"]["id"], 80);
    EXPECT_EQ(lines[1]["type"], "output");
    EXPECT_EQ(lines[1]["data"], "first\n");
    EXPECT_EQ(lines[2]["type"], "job");
    EXPECT_EQ(lines[2]["job"]["state"], "running");

    on_io([this] {
        auto run = make_run(80, 8, RunState::succeeded);
        fake_.emit_later(8,
                         {{JobEvent::OutputAdded{make_chunk(80, 2, "second\n")}},
                          {JobEvent::RunChanged{run}},
                          {JobEvent::JobChanged{make_job(8, JobState::succeeded)}}},
                         std::chrono::milliseconds(20));
    });
    lines = client.read_to_end();
    ASSERT_TRUE(client.parser().is_done());
    ASSERT_EQ(lines.size(), 6u);
    EXPECT_EQ(lines[3]["type"], "output");
    EXPECT_EQ(lines[3]["seq"], 2);
    EXPECT_EQ(lines[3]["run_id"], 80);
    EXPECT_EQ(lines[4]["type"], "run");
    EXPECT_EQ(lines[4]["run"]["state"], "succeeded");
    EXPECT_EQ(lines[5]["type"], "job");
    EXPECT_EQ(lines[5]["job"]["state"], "succeeded");
    EXPECT_TRUE(eventually([this] { return fake_.subscriber_count() == 0; }));
    // The connection takes the next request (HTTP/1.1 keeps it): the next job's stream.
    const auto next = client.next_response("/api/v1/jobs/7/events", kToken);
    EXPECT_EQ(next.result_int(), 200u);
    EXPECT_EQ(next[field::content_type], "application/x-ndjson");
    EXPECT_THAT(next.body(), HasSubstr(R"("state":"succeeded")"));
    EXPECT_TRUE(next.keep_alive());
}

TEST_F(HttpServerTest, ARequestSentDuringAnEventsStreamIsAnsweredAfterIt) {
    auto client = open_events(8);
    client.read_header();
    ASSERT_EQ(client.read_lines(3).size(), 3u);
    client.send_next("/api/v1/agents", kToken);
    on_io([this] {
        fake_.emit_later(8, {{JobEvent::JobChanged{make_job(8, JobState::succeeded)}}},
                         std::chrono::milliseconds(20));
    });
    const auto lines = client.read_to_end();
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[3]["job"]["state"], "succeeded");
    const auto next = client.read_next();
    EXPECT_EQ(next.result_int(), 200u);
    EXPECT_EQ(next[field::content_type], "application/json");
}

TEST_F(HttpServerTest, AnEventsStreamAskedWithConnectionCloseClosesAfterItsLastChunk) {
    auto socket = connect();
    bhttp::request<bhttp::string_body> request{bhttp::verb::get, "/api/v1/jobs/7/events", 11};
    request.set(field::host, "127.0.0.1");
    request.set(field::authorization, std::string("Bearer ") + kToken);
    request.keep_alive(false);
    bhttp::write(socket, request);
    StreamClient client(std::move(socket));
    client.read_header();
    EXPECT_FALSE(client.parser().get().keep_alive());
    EXPECT_EQ(client.read_to_end().size(), 3u);
    EXPECT_TRUE(client.closed_by_server());
}

TEST_F(HttpServerTest, EventsOfAFinishedJobEndAfterTheSnapshot) {
    auto client = open_events(7);
    client.read_header();
    const auto lines = client.read_to_end();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[2]["job"]["state"], "succeeded");
    EXPECT_EQ(lines[1]["data"], "up\xEF\xBF\xBD\xEF\xBF\xBD 3 days\n");
    EXPECT_TRUE(eventually([this] { return fake_.subscriber_count() == 0; }));
}

TEST_F(HttpServerTest, EventsBeforeTheSubscriptionIsConfirmedAreKept) {
    on_io([this] { fake_.snapshot_before_subscribed = true; });
    auto client = open_events(7);
    client.read_header();
    const auto lines = client.read_to_end();
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0]["type"], "run");
    EXPECT_EQ(lines[2]["type"], "job");
}

TEST_F(HttpServerTest, EventsClientDisconnectUnsubscribes) {
    auto client = open_events(8);
    client.read_header();
    ASSERT_EQ(client.read_lines(3).size(), 3u);
    ASSERT_EQ(on_io([this] { return fake_.subscriber_count(); }), 1u);
    client.close();
    EXPECT_TRUE(eventually([this] { return fake_.unsubscribed.size() == 1; }));
    EXPECT_EQ(on_io([this] { return fake_.subscriber_count(); }), 0u);
}

TEST_F(HttpServerTest, EventsSlowConsumerGetsAnErrorLineAndIsClosed) {
    auto client = open_events(8);
    client.read_header();
    ASSERT_EQ(client.read_lines(3).size(), 3u);

    // 16 MiB of output at once, while the client reads nothing.
    on_io([this] {
        std::vector<JobEvent> flood;
        for (std::uint64_t seq = 2; seq < 34; ++seq) {
            flood.push_back(
                {JobEvent::OutputAdded{make_chunk(80, seq, std::string(512 * 1024, 'x'))}});
        }
        fake_.emit(8, flood);
    });
    const auto lines = client.read_to_end();
    ASSERT_GT(lines.size(), 3u);
    EXPECT_LT(lines.size(), 3u + 32u);
    EXPECT_EQ(lines.back()["type"], "error");
    EXPECT_EQ(lines.back()["error"]["code"], "slow_consumer");
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_TRUE(eventually([this] { return fake_.subscriber_count() == 0; }));
}

TEST_F(HttpServerTest, StopEndsStreamsAndUnsubscribes) {
    auto client = open_events(8);
    client.read_header();
    ASSERT_EQ(client.read_lines(3).size(), 3u);
    on_io([this] { server_->stop(); });
    EXPECT_EQ(on_io([this] { return fake_.unsubscribed.size(); }), 1u);
    EXPECT_FALSE(client.read_until_closed().is_done());  // cut off, not ended
    // stop() also closed the listener.
    boost::system::error_code ec;
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
    EXPECT_EQ(ec, net::error::connection_refused);
}

TEST_F(HttpServerTest, UnknownRouteIs404) {
    expect_error(call(bhttp::verb::get, "/nope", {}, std::nullopt), 404, "not_found", "/nope");
    expect_error(call(bhttp::verb::get, "/api/v1/nope"), 404, "not_found", "/api/v1/nope");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/7/stdout"), 404, "not_found");
    expect_error(call(bhttp::verb::get, "/api/v1/jobs/"), 404, "not_found");
}

TEST_F(HttpServerTest, WrongMethodIs405) {
    auto response = call(bhttp::verb::delete_, "/api/v1/jobs");
    expect_error(response, 405, "method_not_allowed", "GET, POST");
    EXPECT_EQ(response[field::allow], "GET, POST");
    response = call(bhttp::verb::get, "/api/v1/jobs/8/cancel");
    expect_error(response, 405, "method_not_allowed");
    EXPECT_EQ(response[field::allow], "POST");
    expect_error(call(bhttp::verb::post, "/healthz", {}, std::nullopt), 405, "method_not_allowed");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
    auto socket = connect();
    beast::flat_buffer buffer;
    for (const char* target : {"/healthz", "/api/v1/jobs/7", "/api/v1/agents"}) {
        write_request(socket, bhttp::verb::get, target, {}, kToken);
        HttpResponse response;
        bhttp::read(socket, buffer, response);
        EXPECT_EQ(response.result_int(), 200u) << target;
        EXPECT_TRUE(response.keep_alive());
    }
}

TEST_F(HttpServerTest, GarbageRequestDoesNotCrashTheServer) {
    std::mt19937 random(20240501);
    for (int round = 0; round < 5; ++round) {
        auto socket = connect();
        std::string junk(4096, '\0');
        for (auto& c : junk) c = static_cast<char>(random());
        net::write(socket, net::buffer(junk));
        socket.shutdown(tcp::socket::shutdown_send);
        std::string reply;
        boost::system::error_code ec;
        net::read(socket, net::dynamic_buffer(reply), ec);
        EXPECT_EQ(ec, net::error::eof);  // the server ends the connection, politely
        if (!reply.empty()) {
            EXPECT_THAT(reply, ::testing::StartsWith("HTTP/1.1 400"));
        }
    }
    const auto response = call(bhttp::verb::get, "/healthz", {}, std::nullopt);
    EXPECT_EQ(response.result_int(), 200u);
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
    auto socket = connect();
    const std::string request =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n";
    net::write(socket, net::buffer(request));
    beast::flat_buffer buffer;
    HttpResponse response;
    bhttp::read(socket, buffer, response);
    expect_error(response, 431, "too_large", "16 KiB");
    EXPECT_FALSE(response.keep_alive());
}

TEST_F(HttpServerTest, StartFailureNamesTheAddressAndReason) {
    on_io([this] {
        HttpConfig config;
        config.address = "not-an-ip";
        HttpServer bad_address(io_, fake_, config);
        auto started = bad_address.start();
        ASSERT_FALSE(started.ok());
        EXPECT_THAT(started.error().message, HasSubstr("not-an-ip"));

        config.address = "127.0.0.1";
        config.port = port_;  // taken by the fixture's server
        HttpServer taken(io_, fake_, config);
        started = taken.start();
        ASSERT_FALSE(started.ok());
        EXPECT_THAT(started.error().message, HasSubstr("127.0.0.1:" + std::to_string(port_)));
        EXPECT_THAT(started.error().message, HasSubstr("in use"));
    });
}

}  // namespace
}  // namespace hostline::controller

namespace hostline::controller {
namespace {

TEST_F(HttpServerTest, PendingApprovalsAreListedWithArgvHostsAndRequester) {
    const auto response = call(bhttp::verb::get, "/api/v1/approvals");
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    const auto list = body_of(response)["approvals"];
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["id"], 5);
    EXPECT_EQ(list[0]["state"], "pending");
    EXPECT_EQ(list[0]["requester"], "irc:alice");
    EXPECT_EQ(list[0]["argv"], json({"systemctl", "restart", "nginx"}));
    EXPECT_EQ(list[0]["hosts"], json({"web-01", "web-02"}));
    EXPECT_EQ(list[0]["count"], 2);
    EXPECT_EQ(list[0]["group"], "ops");
    EXPECT_FALSE(on_io([this] { return desk_.last_state.has_value(); }));

    ASSERT_EQ(call(bhttp::verb::get, "/api/v1/approvals?state=denied").result_int(), 200u);
    EXPECT_EQ(on_io([this] { return desk_.last_state; }), ApprovalState::denied);
    expect_error(call(bhttp::verb::get, "/api/v1/approvals?state=maybe"), 400, "bad_request",
                 "not an approval state");

    // The history: every decided one, a page at a time.
    const auto history = call(bhttp::verb::get, "/api/v1/approvals?state=decided&before=9&limit=1");
    ASSERT_EQ(history.result_int(), 200u) << history.body();
    EXPECT_EQ(body_of(history)["next_before"], 5);  // a full page: more may follow
    const auto query = on_io([this] { return desk_.last_query; });
    ASSERT_TRUE(query);
    EXPECT_EQ(query->states,
              (std::vector<ApprovalState>{ApprovalState::granted, ApprovalState::denied,
                                          ApprovalState::expired}));
    EXPECT_EQ(query->before_job_id, 9);
    EXPECT_EQ(query->limit, 1);
    expect_error(call(bhttp::verb::get, "/api/v1/approvals?before=x"), 400, "bad_request",
                 "before must be a job id");
}

TEST_F(HttpServerTest, ApproveAndDenyDecideAsTheTokensIdentity) {
    const auto approved = call(bhttp::verb::post, "/api/v1/approvals/5/approve");
    ASSERT_EQ(approved.result_int(), 200u) << approved.body();
    EXPECT_EQ(body_of(approved)["approval"]["approvals"], 1);
    EXPECT_EQ(on_io([this] { return desk_.last_decider; }), "token:admin");

    const auto denied =
        call(bhttp::verb::post, "/api/v1/approvals/5/deny", R"({"reason":"not today"})");
    ASSERT_EQ(denied.result_int(), 200u) << denied.body();
    EXPECT_EQ(body_of(denied)["approval"]["state"], "denied");
    EXPECT_EQ(body_of(denied)["approval"]["reason"], "denied by token:admin: not today");

    expect_error(call(bhttp::verb::post, "/api/v1/approvals/6/approve"), 403, "forbidden",
                 "the requester never counts");
    expect_error(call(bhttp::verb::post, "/api/v1/approvals/9/approve"), 404, "not_found",
                 "no pending approval for job #9");
    expect_error(call(bhttp::verb::post, "/api/v1/approvals/5/deny", R"({"why":"x"})"), 400,
                 "bad_request", "reason must be a string");
    expect_error(call(bhttp::verb::post, "/api/v1/approvals/5/deny", R"({"reason":""})"), 400,
                 "bad_request", "reason is required");
    expect_error(call(bhttp::verb::post, "/api/v1/approvals/x/approve"), 400, "bad_request");
}

// ---- webhooks: /hooks/NAME is outside /api and answers for the WebhookDesk ----------------

class RecordingWebhookDesk final : public WebhookDesk {
  public:
    void receive(WebhookCall call, std::function<void(WebhookAnswer)> answer) override {
        calls.push_back(call);
        answer(next);
    }
    std::vector<WebhookCall> calls;
    WebhookAnswer next;
};

class WebhookRouteTest : public HttpServerTest {
  protected:
    void SetUp() override {
        HttpServerTest::SetUp();
        on_io([this] { server_->enable_hooks(hooks_); });
    }

    HttpResponse hook(bhttp::verb method, const std::string& target, const std::string& body) {
        auto socket = connect();
        bhttp::request<bhttp::string_body> request{method, target, 11};
        request.set(field::host, "127.0.0.1");
        request.set("X-Hub-Signature-256", "sha256=abc");
        request.set("X-GitHub-Delivery", "d-1");
        request.body() = body;
        request.prepare_payload();
        bhttp::write(socket, request);
        beast::flat_buffer buffer;
        HttpResponse response;
        bhttp::read(socket, buffer, response);
        return response;
    }

    RecordingWebhookDesk hooks_;
};

TEST_F(WebhookRouteTest, AHookNeedsNoBearerTokenAndGetsItsHeadersAndRawBody) {
    hooks_.next = {202, "job #5 runs deploy", 5};
    const auto response = hook(bhttp::verb::post, "/hooks/github-push", "{\"a\": 1}\n");
    EXPECT_EQ(response.result_int(), 202u);
    EXPECT_EQ(body_of(response),
              json({{"status", "accepted"}, {"message", "job #5 runs deploy"}, {"job_id", 5}}));
    const auto calls = on_io([this] { return hooks_.calls; });
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].name, "github-push");
    EXPECT_EQ(calls[0].body, "{\"a\": 1}\n") << "the exact bytes the signature covers";
    EXPECT_EQ(header_value(calls[0].headers, "x-hub-signature-256").value_or(""), "sha256=abc");
    EXPECT_EQ(header_value(calls[0].headers, "X-GitHub-Delivery").value_or(""), "d-1");
}

TEST_F(WebhookRouteTest, RefusalsUseTheStandardErrorBody) {
    hooks_.next = {401, "the signature in X-Hub-Signature-256 does not match the body", {}};
    expect_error(hook(bhttp::verb::post, "/hooks/gh", "{}"), 401, "unauthorized",
                 "does not match the body");
    hooks_.next = {409, "delivery d-1 was already received", {}};
    expect_error(hook(bhttp::verb::post, "/hooks/gh", "{}"), 409, "conflict", "already received");
    const auto get = hook(bhttp::verb::get, "/hooks/gh", "");
    expect_error(get, 405, "method_not_allowed", "allows only POST");
    EXPECT_EQ(get[field::allow], "POST");
    expect_error(hook(bhttp::verb::post, "/hooks/", "{}"), 404, "not_found");
    expect_error(hook(bhttp::verb::post, "/hooks/a/b", "{}"), 404, "not_found");
    EXPECT_EQ(on_io([this] { return hooks_.calls.size(); }), 2u) << "only the two POSTs to a name";
}

TEST_F(HttpServerTest, WithoutHooksEveryHookIs404) {
    expect_error(call(bhttp::verb::post, "/hooks/github-push", "{}", std::nullopt), 404,
                 "not_found", "/hooks/github-push");
}

TEST_F(HttpServerTest, MetricsAnswerTheTokenHolderInPrometheusTextAndRefuseEveryoneElse) {
    auto response = call(bhttp::verb::get, "/metrics");
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response[field::content_type], "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(response.body(), "hostline_things_total 3\n");

    response = call(bhttp::verb::get, "/metrics", {}, std::nullopt);
    expect_error(response, 401, "unauthorized", "metrics.read");
    EXPECT_EQ(response[field::www_authenticate], "Bearer realm=\"hostline\"");
    expect_error(call(bhttp::verb::get, "/metrics", {}, "wrong"), 401, "unauthorized");
    response = call(bhttp::verb::post, "/metrics");
    expect_error(response, 405, "method_not_allowed");
    EXPECT_EQ(response[field::allow], "GET");
}

// ---- /chat/...: the chat platforms' calls, outside /api, answered by the adapter's handler ---

// Records each call and answers with `next`.
class RecordingInbound {
  public:
    chat::InboundHandler handler() {
        return [this](chat::InboundCall call, std::function<void(chat::InboundAnswer)> answer) {
            calls.push_back(std::move(call));
            answer(next);
        };
    }
    std::vector<chat::InboundCall> calls;
    chat::InboundAnswer next;
};

class ChatInboundRouteTest : public HttpServerTest {
  protected:
    void SetUp() override {
        HttpServerTest::SetUp();
        on_io([this] {
            server_->enable_chat_inbound("/chat/teams/messages", teams_.handler());
            server_->enable_chat_inbound("/chat/slack/events", slack_.handler());
        });
    }
    RecordingInbound teams_, slack_;
};

TEST_F(ChatInboundRouteTest, TheBotConnectorNeedsNoApiTokenAndGetsTheAdaptersAnswer) {
    teams_.next = {200, "application/json",
                   R"({"statusCode":200,"type":"application/vnd.microsoft.card.adaptive"})"};
    // The Bot Framework's JWT is no API token: the adapter, not the server, judges it.
    const auto response =
        call(bhttp::verb::post, "/chat/teams/messages", R"({"type":"invoke"})", "eyJ.bf.jwt");
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(body_of(response)["statusCode"], 200);
    const auto calls = on_io([this] { return teams_.calls; });
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(header_value(calls[0].headers, "authorization").value_or(""), "Bearer eyJ.bf.jwt");
    EXPECT_EQ(calls[0].body, R"({"type":"invoke"})");
    EXPECT_TRUE(on_io([this] { return slack_.calls.empty(); }));
}

TEST_F(ChatInboundRouteTest, SlackGetsItsRawBodyAndHeadersAndAnswersInItsOwnContentType) {
    slack_.next = {200, "text/plain", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"};
    const std::string form = "payload=%7B%22type%22%3A%22block_actions%22%7D";
    auto socket = connect();
    bhttp::request<bhttp::string_body> request{bhttp::verb::post, "/chat/slack/events", 11};
    request.set(field::host, "127.0.0.1");
    request.set("X-Slack-Signature", "v0=abc");
    request.set(field::content_type, "application/x-www-form-urlencoded");
    request.body() = form;
    request.prepare_payload();
    bhttp::write(socket, request);
    beast::flat_buffer buffer;
    HttpResponse response;
    bhttp::read(socket, buffer, response);
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response[field::content_type], "text/plain");
    EXPECT_EQ(response.body(), slack_.next.body);
    const auto calls = on_io([this] { return slack_.calls; });
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].body, form) << "the signature covers the raw bytes";
    EXPECT_EQ(header_value(calls[0].headers, "x-slack-signature").value_or(""), "v0=abc");
}

TEST_F(ChatInboundRouteTest, RefusalsUseTheStandardErrorBody) {
    teams_.next = {401, "", "the token's audience is not this bot's app id"};
    auto response = call(bhttp::verb::post, "/chat/teams/messages", "{}", std::nullopt);
    expect_error(response, 401, "unauthorized", "audience");
    EXPECT_EQ(response[field::www_authenticate], "Bearer realm=\"hostline\"");
    teams_.next = {400, "", "the activity has no type"};
    expect_error(call(bhttp::verb::post, "/chat/teams/messages", "{}", std::nullopt), 400,
                 "bad_request", "no type");
    response = call(bhttp::verb::get, "/chat/teams/messages", "", std::nullopt);
    expect_error(response, 405, "method_not_allowed", "allows only POST");
    EXPECT_EQ(response[field::allow], "POST");
    EXPECT_EQ(on_io([this] { return teams_.calls.size(); }), 2u) << "only the two POSTs";
    expect_error(call(bhttp::verb::post, "/chat/other", "{}", std::nullopt), 404, "not_found");
}

TEST_F(HttpServerTest, WithoutAChatPlatformItsPathIs404AndSaysWhatToConfigure) {
    expect_error(call(bhttp::verb::post, "/chat/teams/messages", "{}", std::nullopt), 404,
                 "not_found", "[chat.teams]");
    expect_error(call(bhttp::verb::post, "/chat/slack/events", "{}", std::nullopt), 404,
                 "not_found", "mode = \"events\"");
}

// ---- /api/v1/schedules: the ScheduleDesk over HTTP ---------------------------------------

// A ScheduleDesk keeping schedules in a map, with the service's errors for names and cron.
class FakeScheduleDesk final : public ScheduleDesk {
  public:
    void add_schedule(const NewSchedule& n, Callback<Schedule> done) override {
        added.push_back(n);
        if (n.cron == "61 * * * *") return done(fail("minute: 61 is out of range 0-59"));
        const std::string name = n.name.empty() ? n.command.front() : n.name;
        if (by_name.contains(name)) return done(fail("the name '" + name + "' is taken"));
        Schedule s{.id = static_cast<std::int64_t>(by_name.size()) + 1,
                   .name = name,
                   .cron = n.cron,
                   .zone = n.zone.empty() ? "UTC" : n.zone,
                   .owner = n.owner,
                   .channel = n.channel,
                   .command = n.command,
                   .run_missed = n.run_missed};
        by_name[name] = s;
        done(s);
    }
    std::vector<Schedule> schedules() const override {
        std::vector<Schedule> all;
        for (const auto& [name, s] : by_name) all.push_back(s);
        return all;
    }
    std::optional<Schedule> schedule(const std::string& name) const override {
        auto it = by_name.find(name);
        if (it == by_name.end()) return std::nullopt;
        return it->second;
    }
    void pause_schedule(const std::string& name, Callback<Schedule> done) override {
        by_name.at(name).paused = true;
        done(by_name.at(name));
    }
    void resume_schedule(const std::string& name, Callback<Schedule> done) override {
        by_name.at(name).paused = false;
        done(by_name.at(name));
    }
    void remove_schedule(const std::string& name, Callback<Schedule> done) override {
        Schedule gone = by_name.at(name);
        by_name.erase(name);
        done(gone);
    }
    Result<std::vector<std::int64_t>> next_firings(const std::string&, int count) const override {
        std::vector<std::int64_t> next;
        for (int i = 1; i <= count; ++i) next.push_back(1700000000000 + i * 86400000LL);
        return next;
    }

    std::map<std::string, Schedule> by_name;
    std::vector<NewSchedule> added;
};

class ScheduleRoutesTest : public HttpServerTest {
  protected:
    void SetUp() override {
        HttpServerTest::SetUp();
        on_io([this] { server_->enable_schedules(desk_); });
    }
    FakeScheduleDesk desk_;
};

TEST_F(ScheduleRoutesTest, AddListShowPauseResumeAndRemove) {
    EXPECT_EQ(body_of(call(bhttp::verb::get, "/api/v1/schedules"))["schedules"], json::array());

    auto added = call(bhttp::verb::post, "/api/v1/schedules",
                      R"({"cron": "30 2 * * *", "zone": "Europe/Berlin", "name": "nightly",
                          "command": ["backup", "--on", "role=db"], "channel": "irc:#ops",
                          "run_missed": true})");
    ASSERT_EQ(added.result_int(), 201u) << added.body();
    const json s = body_of(added)["schedule"];
    EXPECT_EQ(s["name"], "nightly");
    EXPECT_EQ(s["zone"], "Europe/Berlin");
    EXPECT_EQ(s["command"], json({"backup", "--on", "role=db"}));
    EXPECT_EQ(s["run_missed"], true);
    const auto added_calls = on_io([this] { return desk_.added; });
    ASSERT_EQ(added_calls.size(), 1u);
    EXPECT_EQ(added_calls[0].owner, "token:admin") << "the owner is the caller, not the body";
    EXPECT_EQ(added_calls[0].channel, "irc:#ops");

    const json list = body_of(call(bhttp::verb::get, "/api/v1/schedules"));
    ASSERT_EQ(list["schedules"].size(), 1u);
    const json one = body_of(call(bhttp::verb::get, "/api/v1/schedules/nightly"));
    EXPECT_EQ(one["schedule"]["cron"], "30 2 * * *");
    EXPECT_EQ(one["next_ms"].size(), 5u);

    EXPECT_EQ(
        body_of(call(bhttp::verb::post, "/api/v1/schedules/nightly/pause"))["schedule"]["paused"],
        true);
    EXPECT_EQ(
        body_of(call(bhttp::verb::post, "/api/v1/schedules/nightly/resume"))["schedule"]["paused"],
        false);
    EXPECT_EQ(call(bhttp::verb::delete_, "/api/v1/schedules/nightly").result_int(), 200u);
    expect_error(call(bhttp::verb::get, "/api/v1/schedules/nightly"), 404, "not_found",
                 "no schedule named 'nightly'");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules/nightly/pause"), 404, "not_found");
}

TEST_F(ScheduleRoutesTest, BadRequestsSayWhatIsWrong) {
    expect_error(call(bhttp::verb::post, "/api/v1/schedules", "[1]"), 400, "bad_request",
                 "JSON object");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules", R"({"command": ["x"]})"), 400,
                 "bad_request", "cron is required");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules", R"({"cron": "@daily"})"), 400,
                 "bad_request", "command is required");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules",
                      R"({"cron": "@daily", "command": "backup --on role=db"})"),
                 400, "bad_request", "array of words");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules",
                      R"({"cron": "@daily", "command": ["x"], "tz": "UTC"})"),
                 400, "bad_request", "unknown field 'tz'");
    expect_error(call(bhttp::verb::post, "/api/v1/schedules",
                      R"({"cron": "@daily", "command": ["x"], "run_missed": "yes"})"),
                 400, "bad_request", "run_missed must be true or false");
    // The service's own refusals: the expression (400) and a taken name (409).
    expect_error(
        call(bhttp::verb::post, "/api/v1/schedules", R"({"cron": "61 * * * *", "command": ["x"]})"),
        400, "bad_request", "minute: 61 is out of range");
    ASSERT_EQ(call(bhttp::verb::post, "/api/v1/schedules",
                   R"({"cron": "@daily", "command": ["x"], "name": "x"})")
                  .result_int(),
              201u);
    expect_error(call(bhttp::verb::post, "/api/v1/schedules",
                      R"({"cron": "@hourly", "command": ["y"], "name": "x"})"),
                 409, "conflict", "taken");
}

TEST_F(HttpServerTest, WithoutTheScheduleServiceSchedulesAre404) {
    expect_error(call(bhttp::verb::get, "/api/v1/schedules"), 404, "not_found",
                 "schedules are not enabled");
}

}  // namespace
}  // namespace hostline::controller
