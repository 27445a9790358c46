// The IRC adapter against a real ngircd on loopback (and a fake server for SASL, which
// ngircd does not offer). The adapter runs on its own io_context thread, as in the
// controller; the test thread plays the people in the channel.
#include "chat/irc/irc_adapter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "chat/irc/sasl.hpp"
#include "irc_test_peers.hpp"

namespace hostline::chat::irc {
namespace {

using namespace test_peers;
using namespace std::chrono_literals;

class IrcAdapterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        io_thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        on_io([this] { adapter_.reset(); });
        work_.reset();
        io_thread_.join();
    }

    // Runs f on the io_context thread and waits for it.
    template <typename F>
    auto on_io(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return result.get();
    }

    IrcConfig config_for(std::uint16_t port) {
        IrcConfig config;
        config.host = "127.0.0.1";
        config.port = port;
        config.tls = false;
        config.channels = {"#ops"};
        config.messages_per_second = 20;
        config.burst = 10;
        config.reconnect_min = 100ms;
        config.reconnect_max = 400ms;
        return config;
    }

    void start_bot(IrcConfig config) {
        on_io([&] {
            adapter_ = std::make_unique<IrcAdapter>(io_, std::move(config));
            Adapter::Listener listener;
            listener.on_message = [this](const IncomingMessage& m) {
                std::lock_guard lock(mutex_);
                messages_.push_back(m);
                changed_.notify_all();
            };
            listener.on_disconnected = [this](const std::string& why) {
                std::lock_guard lock(mutex_);
                disconnects_.push_back(why);
                changed_.notify_all();
            };
            auto started = adapter_->start(std::move(listener));
            ASSERT_TRUE(started.ok()) << started.error().message;
        });
    }

    std::optional<IncomingMessage> next_message(std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, timeout, [this] { return !messages_.empty(); }))
            return std::nullopt;
        auto m = messages_.front();
        messages_.pop_front();
        return m;
    }

    std::vector<std::string> disconnects() {
        std::lock_guard lock(mutex_);
        return disconnects_;
    }

    // ngircd with the bot in #ops, and alice there first (so she is chanop).
    void start_server_bot_and_alice() {
        ASSERT_TRUE(Ngircd::installed()) << "ngircd is missing: run scripts/install-deps.sh";
        ASSERT_TRUE(server_.start());
        alice_ = std::make_unique<IrcUser>(server_.port(), "alice");
        ASSERT_TRUE(alice_->log_in());
        ASSERT_TRUE(alice_->join("#ops"));
        start_bot(config_for(server_.port()));
        ASSERT_TRUE(alice_->see_join("hostline", "#ops"));
    }

    boost::asio::io_context io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
        boost::asio::make_work_guard(io_)};
    std::thread io_thread_;
    std::unique_ptr<IrcAdapter> adapter_;
    Ngircd server_;
    std::unique_ptr<IrcUser> alice_;

    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<IncomingMessage> messages_;
    std::vector<std::string> disconnects_;
};

TEST_F(IrcAdapterTest, JoinsItsChannelsAndDeliversChannelMessages) {
    start_server_bot_and_alice();
    alice_->send("PRIVMSG #ops :!help");

    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sender.id, "irc:alice!~alice@127.0.0.1");
    EXPECT_EQ(m->sender.display_name, "alice");
    EXPECT_EQ(m->channel, "#ops");
    EXPECT_EQ(m->text, "!help");
    EXPECT_FALSE(m->direct_message);
    EXPECT_TRUE(m->message_id.empty());
}

TEST_F(IrcAdapterTest, DirectMessagesAreDirect) {
    start_server_bot_and_alice();
    alice_->send("PRIVMSG hostline :\x01VERSION\x01");  // CTCP: ignored
    alice_->send("PRIVMSG hostline :jobs");

    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->direct_message);
    EXPECT_EQ(m->channel, "alice");
    EXPECT_EQ(m->text, "jobs");
    EXPECT_EQ(m->sender.id, "irc:alice!~alice@127.0.0.1");
}

TEST_F(IrcAdapterTest, FormattingIsStrippedFromInput) {
    start_server_bot_and_alice();
    alice_->send(
        "PRIVMSG #ops :\x02!run\x02 \x03"
        "04,01backup\x03 \x1Fnow\x0F");

    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->text, "!run backup now");
}

TEST_F(IrcAdapterTest, PostsLongTextInLinesUnder512Bytes) {
    start_server_bot_and_alice();
    std::string text;
    std::vector<std::string> words;
    for (int i = 0; text.size() < 3000; ++i) {
        std::string word = "word" + std::to_string(i);
        words.push_back(word);
        text += word;
        text += (i % 90 == 89) ? "\n" : " ";
    }
    ASSERT_EQ(text.find('\r'), std::string::npos);

    std::promise<Result<PostedMessage>> posted;
    on_io([&] {
        adapter_->post("#ops", "", text, [&](Result<PostedMessage> r) { posted.set_value(r); });
    });
    auto result = posted.get_future().get();
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->channel, "#ops");
    EXPECT_EQ(result->message_id, "");

    std::vector<std::string> received;
    const std::string privmsg_start = ":hostline!";
    while (received.size() < words.size()) {
        auto line = alice_->wait_for([](const std::vector<std::string>& w) {
            return w.size() >= 3 && w[1] == "PRIVMSG" && w[2] == "#ops";
        });
        ASSERT_TRUE(line) << "got " << received.size() << " of " << words.size() << " words";
        EXPECT_LE(line->size() + 2, 512u) << *line;
        EXPECT_EQ(line->rfind(privmsg_start, 0), 0u) << *line;
        const auto payload = line->substr(line->find(" :") + 2);
        for (auto& w : words_of(payload)) received.push_back(w);
    }
    EXPECT_EQ(received, words);
}

TEST_F(IrcAdapterTest, NickCollisionGetsANewNick) {
    ASSERT_TRUE(Ngircd::installed()) << "ngircd is missing: run scripts/install-deps.sh";
    ASSERT_TRUE(server_.start());
    IrcUser squatter(server_.port(), "hostline");
    ASSERT_TRUE(squatter.log_in());
    ASSERT_TRUE(squatter.join("#ops"));

    start_bot(config_for(server_.port()));
    ASSERT_TRUE(squatter.see_join("hostline_", "#ops"));

    squatter.send("PRIVMSG hostline_ :hello");
    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->direct_message);
    EXPECT_EQ(m->channel, "hostline");
}

TEST_F(IrcAdapterTest, RejoinsAfterAKick) {
    start_server_bot_and_alice();
    alice_->send("KICK #ops hostline :out");
    ASSERT_TRUE(alice_->wait_for([](const std::vector<std::string>& w) {
        return w.size() >= 4 && w[1] == "KICK" && w[3] == "hostline";
    }));
    const auto kicked_at = Clock::now();
    ASSERT_TRUE(alice_->see_join("hostline", "#ops", 6s));
    EXPECT_GE(Clock::now() - kicked_at, 1500ms);  // after a pause, not in a fight with ops

    alice_->send("PRIVMSG #ops :!jobs");
    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->text, "!jobs");
}

TEST_F(IrcAdapterTest, ReconnectsAndRejoinsAfterTheServerRestarts) {
    start_server_bot_and_alice();
    alice_.reset();
    server_.stop();
    ASSERT_TRUE(server_.start());

    IrcUser bob(server_.port(), "bob");
    ASSERT_TRUE(bob.log_in());
    ASSERT_TRUE(bob.join("#ops"));
    ASSERT_TRUE(bob.see_join("hostline", "#ops"));
    EXPECT_FALSE(disconnects().empty());

    bob.send("PRIVMSG #ops :!status");
    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sender.id, "irc:bob!~bob@127.0.0.1");
    EXPECT_EQ(m->text, "!status");
}

TEST_F(IrcAdapterTest, TlsVerifiesTheCertificateAndTheHostName) {
    ASSERT_TRUE(Ngircd::installed()) << "ngircd is missing: run scripts/install-deps.sh";
    ASSERT_TRUE(server_.enable_tls());
    ASSERT_TRUE(server_.start());
    IrcUser alice(server_.port(), "alice");
    ASSERT_TRUE(alice.log_in());
    ASSERT_TRUE(alice.join("#ops"));

    auto config = config_for(server_.tls_port());
    config.tls = true;
    config.ca_file = server_.cert_file();
    start_bot(config);
    ASSERT_TRUE(alice.see_join("hostline", "#ops"));
    alice.send("PRIVMSG #ops :!help");
    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->text, "!help");
}

TEST_F(IrcAdapterTest, TlsRefusesACertificateForAnotherName) {
    ASSERT_TRUE(Ngircd::installed()) << "ngircd is missing: run scripts/install-deps.sh";
    ASSERT_TRUE(server_.enable_tls());
    ASSERT_TRUE(server_.start());

    auto config = config_for(server_.tls_port());
    config.host = "localhost";  // the certificate is for IP 127.0.0.1 only
    config.tls = true;
    config.ca_file = server_.cert_file();
    start_bot(config);

    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && disconnects().empty()) std::this_thread::sleep_for(10ms);
    ASSERT_FALSE(disconnects().empty());
    EXPECT_NE(disconnects()[0].find("TLS handshake failed"), std::string::npos) << disconnects()[0];
}

TEST_F(IrcAdapterTest, StartRefusesAnUnusableConfiguration) {
    auto refused = [&](IrcConfig config) {
        return on_io([&] {
            IrcAdapter adapter(io_, std::move(config));
            auto started = adapter.start({});
            return started.ok() ? std::string() : started.error().message;
        });
    };
    auto config = config_for(6667);
    config.host = "";
    EXPECT_NE(refused(config).find("host"), std::string::npos);
    config = config_for(6667);
    config.channels = {"ops"};
    EXPECT_NE(refused(config).find("'ops' is not a channel"), std::string::npos);
    config = config_for(6667);
    config.messages_per_second = 0;
    EXPECT_NE(refused(config).find("messages_per_second"), std::string::npos);
    config = config_for(6667);
    config.sasl_user = "bot";
    EXPECT_NE(refused(config).find("sasl_password"), std::string::npos);
    config = config_for(6667);
    config.tls = true;
    config.ca_file = "/nonexistent/ca.pem";
    EXPECT_NE(refused(config).find("/nonexistent/ca.pem"), std::string::npos);
}

// Answers the registration dialogue of chat-platforms.md §3.1; the password is "sesame".
FakeIrcServer::Respond sasl_server() {
    return [](const std::string& line) -> std::vector<std::string> {
        const auto w = words_of(line);
        if (w.empty()) return {};
        if (line == "CAP LS 302")
            return {":fake.test CAP * LS * :multi-prefix account-tag",
                    ":fake.test CAP * LS :sasl=PLAIN message-tags"};
        if (w[0] == "CAP" && w.size() >= 3 && w[1] == "REQ")
            return {":fake.test CAP * ACK " + line.substr(8)};
        if (line == "AUTHENTICATE PLAIN") return {"AUTHENTICATE +"};
        if (w[0] == "AUTHENTICATE") {
            if (w[1] == sasl_plain_payload("", "bot", "sesame"))
                return {":fake.test 900 * hostline!h@h bot :You are now logged in as bot",
                        ":fake.test 903 * :SASL authentication successful"};
            return {":fake.test 904 * :SASL authentication failed"};
        }
        if (line == "CAP END") return {":fake.test 001 hostline :Welcome"};
        return {};
    };
}

std::vector<std::string> lines_starting(const std::vector<std::string>& lines,
                                        const std::string& start) {
    std::vector<std::string> out;
    for (const auto& l : lines)
        if (l.rfind(start, 0) == 0) out.push_back(l);
    return out;
}

TEST_F(IrcAdapterTest, AReplyPostedWhileDisconnectedIsSentAfterRejoining) {
    FakeIrcServer server([](const std::string& line) -> std::vector<std::string> {
        if (line == "CAP LS 302") return {":fake.test CAP * LS :multi-prefix"};
        if (line == "CAP END") return {":fake.test 001 hostline :Welcome"};
        if (line == "JOIN #ops") return {":hostline!h@h JOIN #ops"};
        return {};
    });
    auto config = config_for(server.port());
    config.reconnect_min = 1s;  // a window to post in while it is away
    config.reconnect_max = 1s;
    start_bot(config);
    auto wait_for_joins = [&](std::size_t n) {
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline && lines_starting(server.received(), "JOIN").size() < n)
            std::this_thread::sleep_for(10ms);
        return lines_starting(server.received(), "JOIN").size() >= n;
    };
    ASSERT_TRUE(wait_for_joins(1));

    server.drop();
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && disconnects().empty()) std::this_thread::sleep_for(10ms);
    ASSERT_FALSE(disconnects().empty());
    auto ok = std::make_shared<std::promise<bool>>();
    auto posted = ok->get_future();
    on_io([&] {
        adapter_->post("#ops", "", "job #7 succeeded",
                       [ok](Result<PostedMessage> r) { ok->set_value(r.ok()); });
    });

    ASSERT_TRUE(wait_for_joins(2)) << "it reconnects and rejoins";
    const auto until = Clock::now() + 5s;
    while (Clock::now() < until &&
           lines_starting(server.received(), "PRIVMSG #ops :job #7").empty())
        std::this_thread::sleep_for(10ms);
    const auto lines = server.received();
    auto reply = std::find(lines.begin(), lines.end(), "PRIVMSG #ops :job #7 succeeded");
    ASSERT_NE(reply, lines.end()) << "the reply is not lost";
    EXPECT_EQ(std::count(lines.begin(), reply, "JOIN #ops"), 2)
        << "sent after the channel is joined again";
    EXPECT_TRUE(posted.get());
    EXPECT_EQ(server.connections(), 2);
}

TEST_F(IrcAdapterTest, StoppingSaysQuitSoTheServerFreesTheNickAtOnce) {
    FakeIrcServer server([](const std::string& line) -> std::vector<std::string> {
        if (line == "CAP LS 302") return {":fake.test CAP * LS :multi-prefix"};
        if (line == "CAP END") return {":fake.test 001 hostline :Welcome"};
        return {};
    });
    start_bot(config_for(server.port()));
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline && lines_starting(server.received(), "JOIN").empty())
        std::this_thread::sleep_for(10ms);
    on_io([&] { adapter_->stop(); });
    const auto until = Clock::now() + 5s;
    while (Clock::now() < until && lines_starting(server.received(), "QUIT").empty())
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(lines_starting(server.received(), "QUIT"),
              std::vector<std::string>{"QUIT :Hostline is stopping"});
}

TEST_F(IrcAdapterTest, RegisteredUnderAnotherNickItAsksForItsOwnBack) {
    // The first NICK hostline is refused (the old connection still holds it); later ones are
    // granted as a nick change.
    std::atomic<int> asked{0};
    FakeIrcServer server([&](const std::string& line) -> std::vector<std::string> {
        if (line == "CAP LS 302") return {":fake.test CAP * LS :multi-prefix"};
        if (line == "NICK hostline" && asked++ == 0)
            return {":fake.test 433 * hostline :Nickname already in use"};
        if (line == "NICK hostline") return {":hostline_!h@h NICK :hostline"};
        if (line == "CAP END") return {":fake.test 001 hostline_ :Welcome"};
        return {};
    });
    auto config = config_for(server.port());
    config.nick_regain = 200ms;
    start_bot(config);
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline && asked < 2) std::this_thread::sleep_for(10ms);
    ASSERT_GE(asked, 2) << "it asked for its nick back";
    std::this_thread::sleep_for(600ms);  // three more regain periods
    EXPECT_EQ(asked, 2) << "and stopped asking once it had it";
    EXPECT_EQ(lines_starting(server.received(), "NICK"),
              (std::vector<std::string>{"NICK hostline", "NICK hostline_", "NICK hostline"}));
}

TEST_F(IrcAdapterTest, SaslPlainIsSentAndAccepted) {
    FakeIrcServer server(sasl_server());
    auto config = config_for(server.port());
    config.sasl_user = "bot";
    config.sasl_password = "sesame";
    start_bot(config);

    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && lines_starting(server.received(), "JOIN").empty())
        std::this_thread::sleep_for(10ms);
    const auto lines = server.received();
    ASSERT_EQ(lines_starting(lines, "JOIN"), std::vector<std::string>{"JOIN #ops"});
    // Only offered capabilities are asked for; server-time was not offered.
    EXPECT_EQ(lines_starting(lines, "CAP REQ"),
              std::vector<std::string>{"CAP REQ :message-tags account-tag sasl"});
    EXPECT_EQ(
        lines_starting(lines, "AUTHENTICATE"),
        (std::vector<std::string>{"AUTHENTICATE PLAIN",
                                  "AUTHENTICATE " + sasl_plain_payload("", "bot", "sesame")}));
    auto at = [&](const std::string& l) { return std::find(lines.begin(), lines.end(), l); };
    EXPECT_LT(at("AUTHENTICATE PLAIN"), at("CAP END"));

    // With account-tag, the account is the identity.
    server.push("@account=carol :carol!c@host.example PRIVMSG #ops :!help");
    auto m = next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sender.id, "irc:carol");
    EXPECT_EQ(m->sender.display_name, "carol");
    EXPECT_EQ(server.connections(), 1);
}

TEST_F(IrcAdapterTest, SaslFailureIsReportedAndNotRetriedInALoop) {
    FakeIrcServer server(sasl_server());
    auto config = config_for(server.port());
    config.sasl_user = "bot";
    config.sasl_password = "wrong";
    start_bot(config);

    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && disconnects().empty()) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(disconnects().size(), 1u);
    EXPECT_NE(disconnects()[0].find("SASL"), std::string::npos) << disconnects()[0];
    EXPECT_NE(disconnects()[0].find("904"), std::string::npos) << disconnects()[0];
    EXPECT_EQ(disconnects()[0].find("wrong"), std::string::npos);

    // Many reconnect intervals (100-400 ms) later, still no second attempt.
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(server.connections(), 1);
    EXPECT_EQ(disconnects().size(), 1u);
    EXPECT_TRUE(lines_starting(server.received(), "CAP END").empty());
}

}  // namespace
}  // namespace hostline::chat::irc
