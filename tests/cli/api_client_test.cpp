#include "cli/api_client.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fake_controller.hpp"

namespace hostline::cli {
namespace {

using testing::chunked_answer;
using testing::error_answer;
using testing::FakeController;
using testing::json_answer;
using testing::ndjson;

TEST(ControllerUrl, AcceptsHostPortAndPrefix) {
    auto url = parse_controller_url("http://127.0.0.1:7480");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->host, "127.0.0.1");
    EXPECT_EQ(url->port, "7480");
    EXPECT_EQ(url->host_port, "127.0.0.1:7480");
    EXPECT_EQ(url->base_path, "");
    EXPECT_EQ(url->text, "http://127.0.0.1:7480");

    url = parse_controller_url("HTTP://ops.example.com/hostline/");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->host, "ops.example.com");
    EXPECT_EQ(url->port, "80");
    EXPECT_EQ(url->base_path, "/hostline");
    EXPECT_EQ(url->text, "http://ops.example.com/hostline");

    url = parse_controller_url("http://[::1]:7480");
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(url->host, "::1");
    EXPECT_EQ(url->host_port, "[::1]:7480");
}

TEST(ControllerUrl, RefusesHttpsWithAWayOut) {
    auto url = parse_controller_url("https://ops.example.com");
    ASSERT_FALSE(url);
    EXPECT_EQ(url.error().message.rfind("https is not supported yet; put the controller behind", 0),
              0u);
    EXPECT_NE(url.error().message.find("or use http on loopback"), std::string::npos);
}

TEST(ControllerUrl, SaysWhatIsWrongWithABadUrl) {
    auto expect_error = [](const char* text, const char* part) {
        auto url = parse_controller_url(text);
        ASSERT_FALSE(url) << text;
        EXPECT_NE(url.error().message.find(part), std::string::npos) << url.error().message;
    };
    expect_error("127.0.0.1:7480", "must start with http://");
    expect_error("ftp://host", "only http:// is supported");
    expect_error("http://", "no host");
    expect_error("http://host:0", "port '0' is not a number from 1 to 65535");
    expect_error("http://host:99999", "port '99999'");
    expect_error("http://host:http", "port 'http'");
    expect_error("http://host:", "empty port");
    expect_error("http://host/?x=1", "query");
    expect_error("http://me:pw@host", "user name");
    expect_error("http://::1:7480", "brackets");
}

TEST(WithQuery, EncodesValuesAndSkipsEmptyOnes) {
    EXPECT_EQ(with_query("/api/v1/jobs", {{"state", "running"}, {"agent", ""}, {"limit", "5"}}),
              "/api/v1/jobs?state=running&limit=5");
    EXPECT_EQ(with_query("/p", {{"agent", "web 01&x=y/é"}}), "/p?agent=web%2001%26x%3Dy%2F%C3%A9");
    EXPECT_EQ(with_query("/p", {}), "/p");
}

class ApiClientTest : public ::testing::Test {
  protected:
    ApiClient client() {
        return ApiClient(parse_controller_url(server_.url()).value(),
                         ApiToken{"s3cret", "/tmp/token"});
    }
    FakeController server_;
};

TEST_F(ApiClientTest, GetReturnsTheJsonBodyAndSendsTheBearerToken) {
    server_.on("GET", "/api/v1/agents", json_answer(200, {{"agents", nlohmann::json::array()}}));
    auto api = client();
    auto answer = api.get("/api/v1/agents");
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ(*answer, nlohmann::json({{"agents", nlohmann::json::array()}}));
    auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].authorization, "Bearer s3cret");
}

TEST_F(ApiClientTest, PostSendsTheJsonBody) {
    server_.on("POST", "/api/v1/jobs", json_answer(201, {{"job", 42}}));
    auto api = client();
    auto answer = api.post("/api/v1/jobs", {{"target", "web-*"}, {"argv", {"uptime"}}});
    ASSERT_TRUE(answer) << answer.error().message;
    EXPECT_EQ((*answer)["job"], 42);
    auto requests = server_.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(requests[0].body),
              nlohmann::json({{"target", "web-*"}, {"argv", {"uptime"}}}));
}

TEST_F(ApiClientTest, AnApiErrorBecomesTheControllersMessage) {
    server_.on("GET", "/api/v1/jobs/9", error_answer(404, "not_found", "job #9 not found"));
    auto api = client();
    auto answer = api.get("/api/v1/jobs/9");
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error().message, "job #9 not found");
    EXPECT_EQ(api.last_status(), 404u);
}

TEST_F(ApiClientTest, UnauthorizedAddsAHintAboutTheTokenFile) {
    server_.on("GET", "/api/v1/agents", error_answer(401, "unauthorized", "invalid token"));
    auto api = client();
    auto answer = api.get("/api/v1/agents");
    ASSERT_FALSE(answer);
    EXPECT_EQ(answer.error().message,
              "invalid token (the token was read from /tmp/token; set the token file with "
              "--token-file or HOSTLINE_TOKEN_FILE)");
}

TEST_F(ApiClientTest, AnErrorWithoutADocumentNamesTheStatus) {
    testing::CannedAnswer answer{
        {"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!"}};
    server_.on("GET", "/api/v1/agents", answer);
    auto api = client();
    auto result = api.get("/api/v1/agents");
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().message,
              "the controller at " + server_.url() + " answered 502 Bad Gateway");
}

TEST_F(ApiClientTest, ABodyThatIsNotJsonIsAnError) {
    testing::CannedAnswer answer{
        {"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n<h1>"}};
    server_.on("GET", "/api/v1/agents", answer);
    auto api = client();
    auto result = api.get("/api/v1/agents");
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("not valid JSON"), std::string::npos);
}

TEST(ApiClient, ConnectionRefusedSaysHowToPointAtTheController) {
    const std::string url = testing::url_nobody_listens_on();
    ApiClient api(parse_controller_url(url).value(), ApiToken{"t", "f"});
    auto answer = api.get("/api/v1/agents");
    ASSERT_FALSE(answer);
    EXPECT_EQ(api.last_status(), 0u);
    EXPECT_EQ(answer.error().message,
              "cannot reach the controller at " + url +
                  ": Connection refused (is it running? set --controller or HOSTLINE_CONTROLLER)");
}

TEST_F(ApiClientTest, StreamDeliversNdjsonLinesCutAcrossChunks) {
    const std::string events = ndjson({{{"type", "job"}, {"n", 1}},
                                       {{"type", "run"}, {"n", 2}},
                                       {{"type", "output"}, {"data", "a\nb"}}});
    // Cut in awkward places: inside a line, right after a newline, a final line without one.
    std::vector<std::string> chunks{events.substr(0, 7), events.substr(7, 12),
                                    events.substr(19, events.size() - 20), "\r\n\n{\"last\":true}"};
    server_.on("GET", "/api/v1/jobs/42/events",
               chunked_answer(chunks, true, std::chrono::milliseconds(5)));
    auto api = client();
    std::vector<nlohmann::json> seen;
    auto end = api.stream_lines("/api/v1/jobs/42/events", [&](std::string_view line) {
        seen.push_back(nlohmann::json::parse(line));
        return true;
    });
    ASSERT_TRUE(end) << end.error().message;
    EXPECT_EQ(*end, ApiClient::StreamEnd::finished);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0]["n"], 1);
    EXPECT_EQ(seen[1]["n"], 2);
    EXPECT_EQ(seen[2]["data"], "a\nb");
    EXPECT_EQ(seen[3]["last"], true);
}

TEST_F(ApiClientTest, StreamStopsWhenTheCallbackSaysSo) {
    server_.on("GET", "/e", chunked_answer({"1\n2\n3\n"}, false, {}, /*hold_open=*/true));
    auto api = client();
    std::vector<std::string> seen;
    auto end = api.stream_lines("/e", [&](std::string_view line) {
        seen.emplace_back(line);
        return seen.size() < 2;
    });
    ASSERT_TRUE(end) << end.error().message;
    EXPECT_EQ(*end, ApiClient::StreamEnd::stopped);
    EXPECT_EQ(seen, (std::vector<std::string>{"1", "2"}));
}

TEST_F(ApiClientTest, AStreamThatBreaksIsAnErrorAfterItsLines) {
    server_.on("GET", "/e", chunked_answer({"one\n", "tw"}, /*complete=*/false));
    auto api = client();
    std::vector<std::string> seen;
    auto end = api.stream_lines("/e", [&](std::string_view line) {
        seen.emplace_back(line);
        return true;
    });
    ASSERT_FALSE(end);
    EXPECT_NE(end.error().message.find("lost the connection to the controller"), std::string::npos)
        << end.error().message;
    EXPECT_EQ(seen, (std::vector<std::string>{"one"}));
}

TEST_F(ApiClientTest, AStreamRefusedWithAnErrorGivesTheMessage) {
    server_.on("GET", "/e", error_answer(404, "not_found", "job #5 not found"));
    auto api = client();
    auto end = api.stream_lines("/e", [](std::string_view) { return true; });
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().message, "job #5 not found");
}

TEST_F(ApiClientTest, StreamEndsWhenTheInterruptFdBecomesReadable) {
    server_.on("GET", "/e", chunked_answer({"first\n"}, false, {}, /*hold_open=*/true));
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::thread interrupter([&] {
        server_.wait_for("/e", std::chrono::seconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_EQ(::write(fds[1], "x", 1), 1);
    });
    auto api = client();
    std::vector<std::string> seen;
    auto end = api.stream_lines(
        "/e",
        [&](std::string_view line) {
            seen.emplace_back(line);
            return true;
        },
        fds[0]);
    interrupter.join();
    ASSERT_TRUE(end) << end.error().message;
    EXPECT_EQ(*end, ApiClient::StreamEnd::interrupted);
    EXPECT_EQ(seen, (std::vector<std::string>{"first"}));
    // The descriptor still belongs to the caller.
    char byte = 0;
    EXPECT_EQ(::read(fds[0], &byte, 1), 1);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace
}  // namespace hostline::cli
