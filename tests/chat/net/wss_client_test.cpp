// WssClient against the TLS test server's WebSocket side: real TLS, real sockets.
#include "chat/net/wss_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <vector>

#include "chat/net/io_loop.hpp"
#include "testing/blackhole_proxy.hpp"
#include "testing/test_tls.hpp"

namespace hostline::chat::net {
namespace {

using hostline::testing::BlackholeProxy;
using hostline::testing::TestCa;
using hostline::testing::TlsTestServer;
using hostline::testing::WsPeer;
using testing::run_for;
using testing::run_until;

// What the client's callbacks saw.
struct Seen {
    std::optional<Result<void>> opened;
    std::vector<std::string> messages;
    std::optional<WssClosed> closed;

    WssHandlers handlers() {
        return {.on_open = [this](Result<void> r) { opened = std::move(r); },
                .on_message = [this](const std::string& text) { messages.push_back(text); },
                .on_closed = [this](const WssClosed& c) { closed = c; }};
    }
};

class WssClientTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // The server keeps the last peer so that tests can act on it.
        server_.on_websocket("/link", [this](std::shared_ptr<WsPeer> peer) {
            std::lock_guard lock(mutex_);
            peer_ = std::move(peer);
        });
    }

    std::shared_ptr<WsPeer> peer() {
        std::lock_guard lock(mutex_);
        return peer_;
    }

    std::unique_ptr<WssClient> make_client(WssOptions options = {}) {
        if (options.tls.ca_file.empty()) options.tls.ca_file = ca_.ca_file();
        auto client = WssClient::create(io_, std::move(options));
        EXPECT_TRUE(client.ok()) << client.error().message;
        return std::move(*client);
    }

    // Connects to `url` and runs until the open succeeded and the server has the peer.
    void open(WssClient& client, Seen& seen, const std::string& url, Headers headers = {}) {
        client.connect(url, std::move(headers), seen.handlers());
        ASSERT_TRUE(run_until(io_, [&] { return seen.opened.has_value(); }));
        ASSERT_TRUE(seen.opened->ok()) << seen.opened->error().message;
        ASSERT_TRUE(run_until(io_, [&] { return peer() != nullptr; }));
    }

    boost::asio::io_context io_;
    TestCa ca_;
    TlsTestServer server_{ca_.server()};
    std::mutex mutex_;
    std::shared_ptr<WsPeer> peer_;
};

TEST_F(WssClientTest, ConnectsAndExchangesMessages) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link?ticket=abc", "wss"),
         {{"Authorization", "Bearer xapp-secret"}});
    auto server_side = peer();
    EXPECT_EQ(server_side->upgrade_request().header("Authorization"), "Bearer xapp-secret");
    EXPECT_EQ(server_side->upgrade_request().target, "/link?ticket=abc");
    EXPECT_EQ(server_side->upgrade_request().sni, "");  // an IP address: no SNI
    server_side->on_message([weak = std::weak_ptr<WsPeer>(server_side)](const std::string& text) {
        if (auto p = weak.lock()) p->send("ack:" + text);
    });
    server_side->send(R"({"type":"hello"})");
    ASSERT_TRUE(run_until(io_, [&] { return seen.messages.size() == 1; }));
    EXPECT_EQ(seen.messages[0], R"({"type":"hello"})");
    ASSERT_TRUE(client->send(R"({"envelope_id":"1"})").ok());
    ASSERT_TRUE(run_until(io_, [&] { return seen.messages.size() == 2; }));
    EXPECT_EQ(seen.messages[1], R"(ack:{"envelope_id":"1"})");
    EXPECT_EQ(server_side->messages(), std::vector<std::string>{R"({"envelope_id":"1"})"});
    EXPECT_FALSE(seen.closed.has_value());
}

TEST_F(WssClientTest, ServerCloseCodeAndReasonReachOnClosed) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    peer()->close(4002, "refresh_requested");
    ASSERT_TRUE(run_until(io_, [&] { return seen.closed.has_value(); }));
    EXPECT_EQ(seen.closed->code, 4002);
    EXPECT_EQ(seen.closed->reason, "refresh_requested");
    EXPECT_FALSE(client->is_open());
    EXPECT_FALSE(client->send("late").ok());
}

TEST_F(WssClientTest, DroppedConnectionIsReportedWithoutACode) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    peer()->drop();
    ASSERT_TRUE(run_until(io_, [&] { return seen.closed.has_value(); }));
    EXPECT_EQ(seen.closed->code, 0);
    EXPECT_NE(seen.closed->reason.find("dropped"), std::string::npos) << seen.closed->reason;
}

TEST_F(WssClientTest, SilentPeerIsDeclaredDeadAfterTheIdleTimeout) {
    // Through a proxy that can go silent without closing anything: a half-open socket.
    BlackholeProxy proxy(server_.port());
    auto client = make_client({.idle_timeout = std::chrono::milliseconds(1000)});
    Seen seen;
    open(*client, seen, "wss://127.0.0.1:" + std::to_string(proxy.port()) + "/link");
    // Quiet but alive: our pings are answered, so the link outlives several idle periods.
    run_for(io_, std::chrono::milliseconds(2500));
    ASSERT_FALSE(seen.closed.has_value()) << seen.closed->reason;
    proxy.partition();
    const auto cut = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(
        io_, [&] { return seen.closed.has_value(); }, std::chrono::seconds(5)));
    // Within about one idle period (1-1.5 s), far from the default 30 s; slack for a busy CI.
    EXPECT_LT(std::chrono::steady_clock::now() - cut, std::chrono::milliseconds(3000));
    EXPECT_EQ(seen.closed->code, 0);
    EXPECT_NE(seen.closed->reason.find("nothing received for 1 s"), std::string::npos)
        << seen.closed->reason;
}

TEST_F(WssClientTest, OversizedMessageClosesTheLink) {
    auto client = make_client({.max_message_bytes = 1024});
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    auto server_side = peer();
    server_side->send(std::string(4096, 'x'));
    ASSERT_TRUE(run_until(io_, [&] { return seen.closed.has_value(); }));
    EXPECT_TRUE(seen.messages.empty());
    EXPECT_EQ(seen.closed->code, 1009);
    EXPECT_NE(seen.closed->reason.find("over the 1 KiB limit"), std::string::npos)
        << seen.closed->reason;
    EXPECT_TRUE(run_until(io_, [&] { return !server_side->is_open(); }));
}

TEST_F(WssClientTest, ServerFromAnotherCaIsRefused) {
    TestCa stranger("Some Other CA");
    TlsTestServer impostor(stranger.server());
    impostor.on_websocket("/link", [](std::shared_ptr<WsPeer>) {});
    auto client = make_client();
    Seen seen;
    client->connect(impostor.url("/link?ticket=SECRET", "wss"), {}, seen.handlers());
    ASSERT_TRUE(run_until(io_, [&] { return seen.opened.has_value(); }));
    ASSERT_FALSE(seen.opened->ok());
    const auto& message = seen.opened->error().message;
    EXPECT_NE(message.find("certificate verify failed"), std::string::npos) << message;
    EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
    EXPECT_TRUE(impostor.requests().empty());
}

TEST_F(WssClientTest, CertificateForAnotherNameIsRefused) {
    TlsTestServer ip_only(ca_.issue("ip-only", {}, {"127.0.0.1"}));
    ip_only.on_websocket("/link", [](std::shared_ptr<WsPeer>) {});
    auto client = make_client();
    Seen seen;
    client->connect(ip_only.url("/link", "wss", "localhost"), {}, seen.handlers());
    ASSERT_TRUE(run_until(io_, [&] { return seen.opened.has_value(); }));
    ASSERT_FALSE(seen.opened->ok());
    EXPECT_NE(seen.opened->error().message.find("certificate verify failed: hostname mismatch"),
              std::string::npos)
        << seen.opened->error().message;
}

TEST_F(WssClientTest, RefusedUpgradeNamesTheStatus) {
    auto client = make_client();
    Seen seen;
    client->connect(server_.url("/nowhere", "wss"), {}, seen.handlers());
    ASSERT_TRUE(run_until(io_, [&] { return seen.opened.has_value(); }));
    ASSERT_FALSE(seen.opened->ok());
    EXPECT_NE(seen.opened->error().message.find("answered 404"), std::string::npos)
        << seen.opened->error().message;
}

TEST_F(WssClientTest, CloseSendsANormalCloseAndSilencesCallbacks) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    auto server_side = peer();
    client->close();
    EXPECT_FALSE(client->is_open());
    ASSERT_TRUE(run_until(io_, [&] { return !server_side->is_open(); }));
    run_for(io_, std::chrono::milliseconds(100));
    EXPECT_FALSE(seen.closed.has_value());
}

// The close frame may go between two fragments of the message being written, so the server
// may get none; what matters is that nothing freed is read (ASan) and nothing arrives torn.
TEST_F(WssClientTest, CloseWithMessagesStillQueuedSendsOnlyWholeOnes) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    auto server_side = peer();
    const std::string big(64 * 1024, 'm');
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(client->send(big).ok());
    client->close();  // one write is under way; the rest are discarded
    ASSERT_TRUE(run_until(io_, [&] { return !server_side->is_open(); }));
    const auto got = server_side->messages();
    EXPECT_LT(got.size(), 50u);
    for (const auto& message : got) EXPECT_EQ(message, big);
}

TEST_F(WssClientTest, DestroyingAnOpenClientNeitherCrashesNorCallsBack) {
    auto client = make_client();
    Seen seen;
    open(*client, seen, server_.url("/link", "wss"));
    auto server_side = peer();
    server_side->send("in flight");
    client.reset();
    ASSERT_TRUE(run_until(io_, [&] { return !server_side->is_open(); }));
    EXPECT_FALSE(seen.closed.has_value());
    // And one destroyed while it is still connecting.
    auto early = make_client();
    Seen early_seen;
    early->connect(server_.url("/link", "wss"), {}, early_seen.handlers());
    early.reset();
    run_for(io_, std::chrono::milliseconds(200));
    EXPECT_FALSE(early_seen.opened.has_value());
}

}  // namespace
}  // namespace hostline::chat::net
