// HttpsClient against the TLS test server: real TLS, real sockets on 127.0.0.1.
#include "chat/net/https_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <stdexcept>

#include "chat/net/io_loop.hpp"
#include "testing/test_tls.hpp"

namespace hostline::chat::net {
namespace {

using hostline::testing::RecordedRequest;
using hostline::testing::TestCa;
using hostline::testing::TestResponse;
using hostline::testing::TlsTestServer;
using testing::run_for;
using testing::run_until;

class HttpsClientTest : public ::testing::Test {
  protected:
    std::unique_ptr<HttpsClient> make_client(HttpsClientOptions options = {}) {
        if (options.tls.ca_file.empty()) options.tls.ca_file = ca_.ca_file();
        auto client = HttpsClient::create(io_, std::move(options));
        EXPECT_TRUE(client.ok()) << client.error().message;
        return std::move(*client);
    }

    // Sends one request and runs the loop until its answer.
    Result<HttpResponse> fetch(HttpsClient& client, HttpRequest request) {
        std::optional<Result<HttpResponse>> got;
        client.request(std::move(request), [&](Result<HttpResponse> r) { got = std::move(r); });
        EXPECT_TRUE(run_until(io_, [&] { return got.has_value(); })) << "no answer";
        if (!got) return fail("no answer");
        return std::move(*got);
    }

    boost::asio::io_context io_;
    TestCa ca_;
    TlsTestServer server_{ca_.server()};
};

TEST_F(HttpsClientTest, GetOverTlsVerifiedByTheTestCa) {
    server_.on("GET", "/openid/config", [](const RecordedRequest&) {
        return TestResponse{200, {{"Content-Type", "application/json"}}, R"({"issuer":"x"})"};
    });
    auto client = make_client();
    auto reply = fetch(*client, {.method = "GET",
                                 .url = server_.url("/openid/config?v=2"),
                                 .headers = {{"Authorization", "Bearer xoxb-secret"}}});
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, R"({"issuer":"x"})");
    EXPECT_EQ(reply->header("content-type"), "application/json");
    auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].target, "/openid/config?v=2");
    EXPECT_EQ(seen[0].header("Authorization"), "Bearer xoxb-secret");
    EXPECT_EQ(seen[0].header("Host"), "127.0.0.1:" + std::to_string(server_.port()));
}

TEST_F(HttpsClientTest, PostCarriesItsBodyAndHeaders) {
    server_.on("POST", "/api/chat.postMessage", [](const RecordedRequest& r) {
        return TestResponse{200, {}, "got " + std::to_string(r.body.size()) + " bytes"};
    });
    auto client = make_client();
    const std::string body = R"({"channel":"C1","text":"hello"})";
    auto reply = fetch(*client, {.method = "POST",
                                 .url = server_.url("/api/chat.postMessage"),
                                 .headers = {{"Content-Type", "application/json; charset=utf-8"}},
                                 .body = body});
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->body, "got " + std::to_string(body.size()) + " bytes");
    auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].body, body);
    EXPECT_EQ(seen[0].header("content-type"), "application/json; charset=utf-8");
}

TEST_F(HttpsClientTest, ServerCertificateFromAnotherCaIsRefused) {
    TestCa stranger("Some Other CA");
    TlsTestServer impostor(stranger.server());
    impostor.on("GET", "/", [](const RecordedRequest&) { return TestResponse{}; });
    auto client = make_client();  // trusts ca_, not stranger
    auto reply = fetch(
        *client, {.url = impostor.url("/"), .headers = {{"Authorization", "Bearer xoxb-secret"}}});
    ASSERT_FALSE(reply.ok());
    const auto& message = reply.error().message;
    EXPECT_NE(message.find("certificate verify failed"), std::string::npos) << message;
    EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
    EXPECT_EQ(message.find("xoxb-secret"), std::string::npos) << message;
    EXPECT_TRUE(impostor.requests().empty());
}

TEST_F(HttpsClientTest, CertificateForAnotherNameIsRefused) {
    // A certificate for 127.0.0.1 only, reached as "localhost".
    TlsTestServer ip_only(ca_.issue("ip-only", {}, {"127.0.0.1"}));
    auto client = make_client();
    auto by_name = fetch(*client, {.url = ip_only.url("/", "https", "localhost")});
    ASSERT_FALSE(by_name.ok());
    EXPECT_NE(by_name.error().message.find("certificate verify failed: hostname mismatch"),
              std::string::npos)
        << by_name.error().message;

    // And one for "localhost" only, reached as 127.0.0.1.
    TlsTestServer name_only(ca_.issue("name-only", {"localhost"}, {}));
    auto by_ip = fetch(*client, {.url = name_only.url("/")});
    ASSERT_FALSE(by_ip.ok());
    EXPECT_NE(by_ip.error().message.find("certificate verify failed: IP address mismatch"),
              std::string::npos)
        << by_ip.error().message;
    EXPECT_TRUE(ip_only.requests().empty());
    EXPECT_TRUE(name_only.requests().empty());
}

TEST_F(HttpsClientTest, TheRightNameIsAcceptedForEitherSanWithSni) {
    server_.on("GET", "/", [](const RecordedRequest&) { return TestResponse{204}; });
    auto client = make_client();
    auto by_name = fetch(*client, {.url = server_.url("/", "https", "localhost")});
    ASSERT_TRUE(by_name.ok()) << by_name.error().message;
    EXPECT_EQ(by_name->status, 204);
    auto by_ip = fetch(*client, {.url = server_.url("/")});
    ASSERT_TRUE(by_ip.ok()) << by_ip.error().message;
    // SNI names the host, and is left out for an address (RFC 6066).
    auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].sni, "localhost");
    EXPECT_EQ(seen[1].sni, "");
}

TEST_F(HttpsClientTest, SlowReplyTimesOut) {
    server_.on("GET", "/slow", [](const RecordedRequest&) {
        return TestResponse{.status = 200, .body = "late", .delay = std::chrono::seconds(3)};
    });
    auto client = make_client();
    const auto started = std::chrono::steady_clock::now();
    auto reply =
        fetch(*client, {.url = server_.url("/slow"), .timeout = std::chrono::milliseconds(300)});
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().message.find("timed out after 300 ms"), std::string::npos)
        << reply.error().message;
    EXPECT_LT(took, std::chrono::seconds(2));
}

TEST_F(HttpsClientTest, BodyOverTheCapIsRefusedNamingTheLimit) {
    server_.on("GET", "/big", [](const RecordedRequest&) {
        return TestResponse{200, {}, std::string(64 * 1024, 'x')};
    });
    auto client = make_client({.max_body_bytes = 16 * 1024});
    auto reply = fetch(*client, {.url = server_.url("/big")});
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().message.find("over the 16 KiB limit"), std::string::npos)
        << reply.error().message;
}

TEST_F(HttpsClientTest, ChunkedBodyOverTheCapIsRefusedToo) {
    server_.on("GET", "/big", [](const RecordedRequest&) {
        return TestResponse{200, {{"Transfer-Encoding", "chunked"}}, std::string(64 * 1024, 'x')};
    });
    server_.on("GET", "/small", [](const RecordedRequest&) {
        return TestResponse{200, {{"Transfer-Encoding", "chunked"}}, "small"};
    });
    auto client = make_client({.max_body_bytes = 16 * 1024});
    auto small = fetch(*client, {.url = server_.url("/small")});
    ASSERT_TRUE(small.ok()) << small.error().message;
    EXPECT_EQ(small->header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(small->body, "small");
    auto reply = fetch(*client, {.url = server_.url("/big")});
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().message.find("over the 16 KiB limit"), std::string::npos)
        << reply.error().message;
}

TEST_F(HttpsClientTest, KeepAliveCarriesTwoRequestsOnOneConnection) {
    server_.on("GET", "/a", [](const RecordedRequest&) { return TestResponse{200, {}, "a"}; });
    server_.on("POST", "/b", [](const RecordedRequest&) { return TestResponse{200, {}, "b"}; });
    auto client = make_client();
    auto first = fetch(*client, {.url = server_.url("/a")});
    auto second = fetch(*client, {.method = "POST", .url = server_.url("/b"), .body = "{}"});
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(first->body, "a");
    EXPECT_EQ(second->body, "b");
    auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].connection, seen[1].connection);
    EXPECT_EQ(server_.connections_accepted(), 1u);
    EXPECT_EQ(client->open_connections(), 1u);
}

TEST_F(HttpsClientTest, ConnectionTheServerClosedWhileIdleIsReplacedTransparently) {
    server_.on("POST", "/api/chat.postMessage", [](const RecordedRequest&) {
        return TestResponse{.status = 200, .body = "ok", .close_after = true};
    });
    auto client = make_client();
    auto first = fetch(*client, {.method = "POST", .url = server_.url("/api/chat.postMessage")});
    ASSERT_TRUE(first.ok()) << first.error().message;
    run_for(io_, std::chrono::milliseconds(50));  // the server's close reaches us
    auto second = fetch(*client, {.method = "POST", .url = server_.url("/api/chat.postMessage")});
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->body, "ok");
    auto seen = server_.requests();
    ASSERT_EQ(seen.size(), 2u);  // sent once each: the dead connection carried nothing
    EXPECT_NE(seen[0].connection, seen[1].connection);
}

TEST_F(HttpsClientTest, ConcurrentRequestsToOneHostEachGetTheirReply) {
    server_.on("GET", "/slow", [](const RecordedRequest&) {
        return TestResponse{.status = 200, .body = "slow", .delay = std::chrono::milliseconds(200)};
    });
    server_.on("GET", "/fast", [](const RecordedRequest&) {
        return TestResponse{200, {}, "fast"};
    });
    auto client = make_client();
    std::vector<std::string> order;
    int failures = 0;
    auto note = [&](Result<HttpResponse> r) {
        if (r)
            order.push_back(r->body);
        else
            ++failures;
    };
    client->request({.url = server_.url("/slow")}, note);
    client->request({.url = server_.url("/fast")}, note);
    ASSERT_TRUE(run_until(io_, [&] { return order.size() + failures == 2; }));
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
    EXPECT_EQ(server_.connections_accepted(), 2u);
}

TEST_F(HttpsClientTest, IdleConnectionIsClosedAfterTheIdleTime) {
    server_.on("GET", "/a", [](const RecordedRequest&) { return TestResponse{200, {}, "a"}; });
    auto client = make_client({.idle_close = std::chrono::milliseconds(200)});
    ASSERT_TRUE(fetch(*client, {.url = server_.url("/a")}).ok());
    EXPECT_EQ(client->open_connections(), 1u);
    run_for(io_, std::chrono::milliseconds(400));
    EXPECT_EQ(client->open_connections(), 0u);
    ASSERT_TRUE(fetch(*client, {.url = server_.url("/a")}).ok());
    EXPECT_EQ(server_.connections_accepted(), 2u);
}

TEST_F(HttpsClientTest, TooManyRequestsReachesTheCallerWithRetryAfter) {
    server_.on("POST", "/api/chat.update", [](const RecordedRequest&) {
        return TestResponse{429, {{"Retry-After", "3"}}, R"({"ok":false,"error":"ratelimited"})"};
    });
    auto client = make_client();
    auto reply = fetch(*client, {.method = "POST", .url = server_.url("/api/chat.update")});
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->status, 429);
    EXPECT_EQ(reply->header("retry-after"), "3");
    EXPECT_EQ(reply->body, R"({"ok":false,"error":"ratelimited"})");
}

TEST_F(HttpsClientTest, RefusedConnectionNamesTheHost) {
    std::uint16_t closed_port = 0;
    {
        boost::asio::ip::tcp::acceptor probe(io_, {boost::asio::ip::make_address("127.0.0.1"), 0});
        closed_port = probe.local_endpoint().port();
    }
    auto client = make_client();
    auto reply = fetch(*client, {.url = "https://127.0.0.1:" + std::to_string(closed_port) + "/x"});
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.error().message.find("127.0.0.1:" + std::to_string(closed_port)),
              std::string::npos)
        << reply.error().message;
    EXPECT_NE(reply.error().message.find("refused"), std::string::npos) << reply.error().message;
}

TEST_F(HttpsClientTest, BadRequestsFailWithoutSendingOrQuotingSecrets) {
    auto client = make_client();
    auto injected = fetch(*client, {.url = server_.url("/"),
                                    .headers = {{"Authorization", "Bearer xoxb-1\r\nX-Evil: 1"}}});
    ASSERT_FALSE(injected.ok());
    EXPECT_NE(injected.error().message.find("Authorization"), std::string::npos);
    EXPECT_EQ(injected.error().message.find("xoxb"), std::string::npos);
    EXPECT_FALSE(fetch(*client, {.method = "BREW", .url = server_.url("/")}).ok());
    EXPECT_FALSE(fetch(*client, {.url = "http://127.0.0.1/"}).ok());
    EXPECT_FALSE(fetch(*client, {.url = "wss://127.0.0.1/"}).ok());
    EXPECT_TRUE(server_.requests().empty());
}

TEST_F(HttpsClientTest, TestServerAnswers404WithoutAHandlerAnd500WhenOneThrows) {
    server_.on("GET", "/broken", [](const RecordedRequest&) -> TestResponse {
        throw std::runtime_error("fixture missing");
    });
    auto client = make_client();
    auto missing = fetch(*client, {.url = server_.url("/nowhere")});
    ASSERT_TRUE(missing.ok()) << missing.error().message;
    EXPECT_EQ(missing->status, 404);
    auto broken = fetch(*client, {.url = server_.url("/broken")});
    ASSERT_TRUE(broken.ok()) << broken.error().message;
    EXPECT_EQ(broken->status, 500);
    EXPECT_NE(broken->body.find("fixture missing"), std::string::npos);
}

TEST_F(HttpsClientTest, UnreadableCaFileFailsAtCreation) {
    auto client = HttpsClient::create(io_, {.tls = {.ca_file = "/nonexistent/ca.pem"}});
    ASSERT_FALSE(client.ok());
    EXPECT_NE(client.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST_F(HttpsClientTest, DestroyingTheClientWithARequestInFlightDropsItsCallback) {
    server_.on("GET", "/slow", [](const RecordedRequest&) {
        return TestResponse{.status = 200, .delay = std::chrono::milliseconds(500)};
    });
    auto client = make_client();
    bool called = false;
    client->request({.url = server_.url("/slow")}, [&](Result<HttpResponse>) { called = true; });
    // Until the server has the request: the connection, TLS and the write are all done.
    ASSERT_TRUE(run_until(io_, [&] { return !server_.requests().empty(); }));
    client.reset();
    run_for(io_, std::chrono::milliseconds(700));
    EXPECT_FALSE(called);
    // And one destroyed before it even connected.
    auto early = make_client();
    early->request({.url = server_.url("/slow")}, [&](Result<HttpResponse>) { called = true; });
    early.reset();
    run_for(io_, std::chrono::milliseconds(100));
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace hostline::chat::net
