// The API's tokens and audit routes over the real pieces behind them: an HttpServer on port
// 0, a real Scheduler, SQLite store, StoreAuditTrail and TokenRegistry, driven by a real HTTP
// client. The io_context runs on its own thread, as in the controller.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "controller/http/api_server_fixture.hpp"

namespace hostline::controller {
namespace {

using namespace hostline::controller::api_test;
using ::testing::HasSubstr;

class TokensAndAuditApiTest : public ApiServerFixture {
  protected:
    TokensAndAuditApiTest() : ApiServerFixture("tokens-api", false) {}
};

TEST_F(TokensAndAuditApiTest, ACreatedTokenIsShownOnceAndListedWithoutItsSecret) {
    const auto secret = create("ci", "30d");
    EXPECT_THAT(secret, ::testing::StartsWith("hlt_"));
    EXPECT_EQ(secret.size(), 4u + 64u);

    const auto listed = call(bhttp::verb::get, "/api/v1/tokens");
    ASSERT_EQ(listed.status, 200u);
    ASSERT_EQ(listed.body["tokens"].size(), 1u);
    const auto& token = listed.body["tokens"][0];
    EXPECT_EQ(token["name"], "ci");
    EXPECT_EQ(token["identity"], "local:ci");
    EXPECT_EQ(token["created_by"], "token:admin");
    EXPECT_EQ(token["state"], "active");
    EXPECT_TRUE(token["expires_at_ms"].is_number());
    EXPECT_TRUE(token["last_used_ms"].is_null());
    EXPECT_EQ(listed.body.dump().find(secret.substr(4)), std::string::npos);
    EXPECT_FALSE(token.contains("secret_sha256"));
}

TEST_F(TokensAndAuditApiTest, ATokenActsAsItsIdentityUntilRevoked) {
    const auto secret = create("ci");
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents", secret).status, 200u);
    EXPECT_EQ(
        call(bhttp::verb::get, "/api/v1/tokens").body["tokens"][0]["last_used_ms"].is_number(),
        true);

    const auto revoked = call(bhttp::verb::delete_, "/api/v1/tokens/ci");
    ASSERT_EQ(revoked.status, 200u) << revoked.body.dump();
    const auto refused = call(bhttp::verb::get, "/api/v1/agents", secret);
    EXPECT_EQ(refused.status, 401u);
    EXPECT_THAT(error_message(refused), HasSubstr("the token 'ci' was revoked"));
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/tokens").body["tokens"][0]["state"], "revoked");
}

TEST_F(TokensAndAuditApiTest, AnExpiredTokenIs401SayingSo) {
    const auto secret = create("short", "1ms");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto refused = call(bhttp::verb::get, "/api/v1/agents", secret);
    EXPECT_EQ(refused.status, 401u);
    EXPECT_THAT(error_message(refused), HasSubstr("the token 'short' expired at"));
}

TEST_F(TokensAndAuditApiTest, TokensSurviveARestartAndARevocationStays) {
    const auto kept = create("kept");
    const auto gone = create("gone");
    ASSERT_EQ(call(bhttp::verb::delete_, "/api/v1/tokens/gone").status, 200u);
    stop();
    start();
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents", kept).status, 200u);
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents", gone).status, 401u);
}

TEST_F(TokensAndAuditApiTest, BadRequestsNameWhatWasWrong) {
    const auto bad_identity =
        call(bhttp::verb::post, "/api/v1/tokens", kAdmin, R"({"name": "ci", "identity": "alice"})");
    EXPECT_EQ(bad_identity.status, 400u);
    EXPECT_THAT(error_message(bad_identity), HasSubstr("platform:id"));
    const auto bad_name = call(bhttp::verb::post, "/api/v1/tokens", kAdmin,
                               R"({"name": "a b", "identity": "local:x"})");
    EXPECT_EQ(bad_name.status, 400u);
    EXPECT_THAT(error_message(bad_name), HasSubstr("token name"));
    const auto bad_ttl = call(bhttp::verb::post, "/api/v1/tokens", kAdmin,
                              R"({"name": "ci", "identity": "local:x", "ttl": "soon"})");
    EXPECT_EQ(bad_ttl.status, 400u);
    EXPECT_THAT(error_message(bad_ttl), HasSubstr("ttl"));
    create("ci");
    const auto twice = call(bhttp::verb::post, "/api/v1/tokens", kAdmin,
                            R"({"name": "ci", "identity": "local:x"})");
    EXPECT_EQ(twice.status, 409u);
    const auto unknown = call(bhttp::verb::delete_, "/api/v1/tokens/nope");
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_THAT(error_message(unknown), HasSubstr("no token named 'nope'"));
}

TEST_F(TokensAndAuditApiTest, TokenChangesAreAuditedWithoutTheSecretAndTheChainVerifies) {
    const auto secret = create("ci");
    ASSERT_EQ(call(bhttp::verb::delete_, "/api/v1/tokens/ci").status, 200u);

    const auto listed = call(bhttp::verb::get, "/api/v1/audit");
    ASSERT_EQ(listed.status, 200u) << listed.body.dump();
    const auto& events = listed.body["events"];
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["kind"], "token.revoked");  // newest first
    EXPECT_EQ(events[1]["kind"], "token.created");
    EXPECT_EQ(events[1]["actor"], "token:admin");
    EXPECT_EQ(events[1]["subject"], "token:ci");
    EXPECT_EQ(events[1]["detail"]["identity"], "local:ci");
    EXPECT_EQ(events[0]["prev_hash"], events[1]["hash"]);
    EXPECT_EQ(listed.body.dump().find(secret), std::string::npos);

    const auto page = call(bhttp::verb::get, "/api/v1/audit?order=oldest&limit=1&after=0");
    ASSERT_EQ(page.body["events"].size(), 1u);
    EXPECT_EQ(page.body["next_after"], 1);
    const auto kind = call(bhttp::verb::get, "/api/v1/audit?kind=token.revoked");
    EXPECT_EQ(kind.body["events"].size(), 1u);
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/audit?limit=0").status, 400u);

    const auto verified = call(bhttp::verb::get, "/api/v1/audit/verify");
    ASSERT_EQ(verified.status, 200u);
    EXPECT_EQ(verified.body["ok"], true);
    EXPECT_EQ(verified.body["rows"], 2);
    EXPECT_TRUE(verified.body["broken_row"].is_null());
}

}  // namespace
}  // namespace hostline::controller

namespace hostline::controller {
namespace {

// More rows than one page of the store (500): the export reads on until the last.
TEST_F(TokensAndAuditApiTest, TheExportIsEveryRowOldestFirstWithAnUnbrokenChain) {
    std::promise<void> recorded;
    net::post(io_, [&] {
        for (int i = 0; i < 1203; ++i)
            audit_->record(AuditEvent{"test.event", "local:test", "row:" + std::to_string(i), {}});
        recorded.set_value();
    });
    recorded.get_future().get();

    net::io_context client;
    net::ip::tcp::socket socket(client);
    socket.connect({net::ip::make_address("127.0.0.1"), port_});
    bhttp::request<bhttp::string_body> request{bhttp::verb::get, "/api/v1/audit/export", 11};
    request.set(bhttp::field::host, "127.0.0.1");
    request.set(bhttp::field::authorization, std::string("Bearer ") + kAdmin);
    bhttp::write(socket, request);
    boost::beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> response;
    bhttp::read(socket, buffer, response);
    ASSERT_EQ(response.result_int(), 200u) << response.body();
    EXPECT_EQ(response[bhttp::field::content_type], "application/x-ndjson");

    std::vector<json> rows;
    std::istringstream lines(response.body());
    for (std::string line; std::getline(lines, line);) rows.push_back(json::parse(line));
    ASSERT_EQ(rows.size(), 1203u);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i]["id"], i + 1);
        EXPECT_EQ(rows[i]["subject"], "row:" + std::to_string(i));
        if (i > 0) {
            EXPECT_EQ(rows[i]["prev_hash"], rows[i - 1]["hash"]) << "row " << i + 1;
        }
    }
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/audit/export?limit=5").status, 400u);
}

}  // namespace
}  // namespace hostline::controller
