#include "chat/irc/irc_message.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace hostline::chat::irc {
namespace {

Message parse_ok(std::string_view line) {
    auto parsed = parse_line(line);
    EXPECT_TRUE(parsed.ok()) << line << ": " << (parsed ? "" : parsed.error().message);
    return parsed ? std::move(parsed).value() : Message{};
}

std::string format_ok(std::string_view command, const std::vector<std::string_view>& params,
                      const std::map<std::string, std::string>& tags = {}) {
    auto line = format_line(command, params, tags);
    EXPECT_TRUE(line.ok()) << command << ": " << (line ? "" : line.error().message);
    return line ? *line : std::string();
}

using Params = std::vector<std::string>;

TEST(IrcMessage, ParsesTagsPrefixAndTrailing) {
    const auto message = parse_ok(
        "@time=2026-11-24T01:26:25.000Z;msgid=abc;+draft/reply :botB!~botB@127.0.0.1 PRIVMSG "
        "#jobs :!run backup-nightly");
    EXPECT_EQ(message.tags,
              (std::map<std::string, std::string>{
                  {"time", "2026-11-24T01:26:25.000Z"}, {"msgid", "abc"}, {"+draft/reply", ""}}));
    EXPECT_EQ(message.prefix, "botB!~botB@127.0.0.1");
    EXPECT_EQ(message.nick, "botB");
    EXPECT_EQ(message.user, "~botB");
    EXPECT_EQ(message.host, "127.0.0.1");
    EXPECT_EQ(message.command, "PRIVMSG");
    EXPECT_EQ(message.params, (Params{"#jobs", "!run backup-nightly"}));
}

// Lines recorded from ngircd 26.1 (fixtures/chat/irc/ngircd-26.1-session.txt).
TEST(IrcMessage, ParsesRecordedNgircdSession) {
    auto cap = parse_ok(":irc.test.local CAP * LS :multi-prefix");
    EXPECT_EQ(cap.host, "irc.test.local");
    EXPECT_EQ(cap.nick, "");
    EXPECT_EQ(cap.params, (Params{"*", "LS", "multi-prefix"}));

    auto isupport = parse_ok(
        ":irc.test.local 005 botA CHANNELLEN=50 NICKLEN=9 TOPICLEN=490 AWAYLEN=127 KICKLEN=400 "
        "MODES=5 MAXLIST=beI:50 EXCEPTS=e INVEX=I PENALTY FNC :are supported on this server");
    EXPECT_EQ(isupport.command, "005");
    ASSERT_EQ(isupport.params.size(), 13u);
    EXPECT_EQ(isupport.params[2], "NICKLEN=9");
    EXPECT_EQ(isupport.params.back(), "are supported on this server");

    auto join = parse_ok(":botB!~botB@127.0.0.1 JOIN :#jobs");
    EXPECT_EQ(join.nick, "botB");
    EXPECT_EQ(join.params, (Params{"#jobs"}));

    auto pong = parse_ok(":irc.test.local PONG irc.test.local :keepalive-1");
    EXPECT_EQ(pong.params, (Params{"irc.test.local", "keepalive-1"}));

    auto error = parse_ok("ERROR :Request too long");
    EXPECT_EQ(error.prefix, "");
    EXPECT_EQ(error.command, "ERROR");
    EXPECT_EQ(error.params, (Params{"Request too long"}));

    auto motd = parse_ok(
        ":irc.test.local 372 botB :- Connected using Cipher AES-256-GCM-AEAD         TLS1.3");
    EXPECT_EQ(motd.params.back(), "- Connected using Cipher AES-256-GCM-AEAD         TLS1.3");
}

TEST(IrcMessage, UnescapesTagValues) {
    const auto message =
        parse_ok(R"(@a=semi\:colon;b=two\swords;c=back\\slash;d=cr\rlf\n;e=unknown\x;f=end\ PING)");
    EXPECT_EQ(message.tags.at("a"), "semi;colon");
    EXPECT_EQ(message.tags.at("b"), "two words");
    EXPECT_EQ(message.tags.at("c"), "back\\slash");
    EXPECT_EQ(message.tags.at("d"), "cr\rlf\n");
    EXPECT_EQ(message.tags.at("e"), "unknownx");
    EXPECT_EQ(message.tags.at("f"), "end");
    EXPECT_EQ(message.command, "PING");

    EXPECT_EQ(parse_ok("@k=;k2 PING").tags,
              (std::map<std::string, std::string>{{"k", ""}, {"k2", ""}}));
    EXPECT_EQ(parse_ok("@k=first;k=second PING").tags.at("k"), "second");
}

TEST(IrcMessage, NumericRepliesAreCommands) {
    auto in_use = parse_ok(":irc.test.local 433 * botA :Nickname already in use");
    EXPECT_EQ(in_use.command, "433");
    EXPECT_EQ(in_use.params, (Params{"*", "botA", "Nickname already in use"}));

    auto welcome = parse_ok(
        ":irc.test.local 001 botA :Welcome to the Internet Relay Network botA!~botA@127.0.0.1");
    EXPECT_EQ(welcome.command, "001");

    EXPECT_EQ(parse_ok(":srv.example 903 botA :SASL authentication successful").command, "903");
    EXPECT_EQ(parse_ok(":srv.example 904 botA :SASL authentication failed").command, "904");
}

TEST(IrcMessage, ToleratesExtraSpacesAndLowerCaseCommands) {
    auto message = parse_ok(":nick!user@host   privmsg   #c   word  :  spaced trailing ");
    EXPECT_EQ(message.command, "PRIVMSG");
    EXPECT_EQ(message.params, (Params{"#c", "word", "  spaced trailing "}));
    EXPECT_EQ(parse_ok("PING").params, Params{});
    EXPECT_EQ(parse_ok("PING :").params, (Params{""}));
}

TEST(IrcMessage, SplitsPartialPrefixes) {
    auto nick_only = parse_ok(":botA MODE botA :+i");
    EXPECT_EQ(nick_only.nick, "botA");
    EXPECT_EQ(nick_only.host, "");
    auto nick_host = parse_ok(":botA@127.0.0.1 PRIVMSG #c :x");
    EXPECT_EQ(nick_host.nick, "botA");
    EXPECT_EQ(nick_host.user, "");
    EXPECT_EQ(nick_host.host, "127.0.0.1");
}

TEST(IrcMessage, FifteenthParameterTakesTheRestPerRfc2812) {
    auto message = parse_ok("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 and more");
    ASSERT_EQ(message.params.size(), 15u);
    EXPECT_EQ(message.params[13], "14");
    EXPECT_EQ(message.params[14], "15 and more");
}

TEST(IrcMessage, RefusesMalformedLines) {
    EXPECT_FALSE(parse_line("").ok());
    EXPECT_FALSE(parse_line("   ").ok());
    EXPECT_FALSE(parse_line(":prefix.only").ok());
    EXPECT_FALSE(parse_line("@tag=only").ok());
    EXPECT_FALSE(parse_line("@a=b :nick!u@h ").ok());
    EXPECT_FALSE(parse_line("PRIVMSG #c :a\rb").ok());
    EXPECT_FALSE(parse_line("PRIVMSG #c :a\nb").ok());
    EXPECT_FALSE(parse_line(std::string("PRIVMSG #c :a\0b", 15)).ok());

    const std::string tags = "@k=" + std::string(kMaxTagBytes - 4, 'v');  // 8190 bytes
    EXPECT_TRUE(parse_line(tags + " PRIVMSG #c :" + std::string(490, 'x')).ok());
    EXPECT_FALSE(parse_line(tags + "v PING").ok());
    EXPECT_FALSE(parse_line(tags + " PRIVMSG #c :" + std::string(600, 'x')).ok());
    const auto error = parse_line("").error().message;
    EXPECT_NE(error.find("empty"), std::string::npos);
}

TEST(IrcMessage, FormatsOutgoingLines) {
    EXPECT_EQ(format_ok("PRIVMSG", {"#jobs", "!run backup-nightly"}),
              "PRIVMSG #jobs :!run backup-nightly");
    EXPECT_EQ(format_ok("PRIVMSG", {"#jobs", "done"}), "PRIVMSG #jobs done");
    EXPECT_EQ(format_ok("PRIVMSG", {"#jobs", ":)"}), "PRIVMSG #jobs ::)");
    EXPECT_EQ(format_ok("PRIVMSG", {"#jobs", ""}), "PRIVMSG #jobs :");
    EXPECT_EQ(format_ok("USER", {"botA", "0", "*", "adapter test"}), "USER botA 0 * :adapter test");
    EXPECT_EQ(format_ok("CAP", {"END"}), "CAP END");
    EXPECT_EQ(format_ok("QUIT", {}), "QUIT");
    EXPECT_EQ(
        format_ok("TAGMSG", {"#jobs"}, {{"+typing", "active"}, {"+x", "a b;c\\\r\n"}, {"+y", ""}}),
        R"(@+typing=active;+x=a\sb\:c\\\r\n;+y TAGMSG #jobs)");
}

TEST(IrcMessage, FormattedLinesParseBack) {
    const std::map<std::string, std::string> tags{{"+reply", "x;y z\\"}, {"label", "1"}};
    const auto line = format_ok("PRIVMSG", {"#jobs", ": leading colon and spaces "}, tags);
    const auto message = parse_ok(line);
    EXPECT_EQ(message.tags, tags);
    EXPECT_EQ(message.command, "PRIVMSG");
    EXPECT_EQ(message.params, (Params{"#jobs", ": leading colon and spaces "}));
}

TEST(IrcMessage, RefusesCrLfAndNulInOutgoingLines) {
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", "hi\r\nQUIT :pwned"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", "hi\nthere"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", "hi\rthere"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", std::string_view("a\0b", 3)}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jo\nbs", "hi"}).ok());
    EXPECT_FALSE(format_line("PRIV\rMSG", {"#jobs", "hi"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", "hi"}, {{"+k\n", "v"}}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", "hi"}, {{"+k", std::string("a\0b", 3)}}).ok());
}

TEST(IrcMessage, RefusesMalformedOutgoingLines) {
    EXPECT_FALSE(format_line("", {"#jobs"}).ok());
    EXPECT_FALSE(format_line("PRIV MSG", {"#jobs"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#a b", "hi"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"", "hi"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {":x", "hi"}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs"}, {{"", "v"}}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs"}, {{"a=b", "v"}}).ok());

    // 510 bytes without CRLF is the most a server accepts (ngircd: "Request too long").
    const std::string at_limit(kMaxSentLineBytes - std::string("PRIVMSG #jobs :").size(), 'x');
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs", at_limit + " "}).ok());
    EXPECT_TRUE(format_line("PRIVMSG", {"#jobs", at_limit.substr(1) + " "}).ok());
    EXPECT_FALSE(format_line("PRIVMSG", {"#jobs"}, {{"+k", std::string(4100, 'v')}}).ok());
}

TEST(IrcMessage, RandomBytesNeverCrashTheParser) {
    std::mt19937 random(20261124);
    std::uniform_int_distribution<int> length(0, 700);
    std::uniform_int_distribution<int> byte(0, 255);
    const std::string_view alphabet = "@:; =\\!. aZ09";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::size_t parsed = 0;
    for (int iteration = 0; iteration < 5000; ++iteration) {
        std::string line(static_cast<std::size_t>(length(random)), '\0');
        for (auto& c : line) {
            // Half the lines are biased towards IRC syntax so the parser's branches get hit.
            c = iteration % 2 == 0 ? static_cast<char>(byte(random)) : alphabet[pick(random)];
        }
        auto message = parse_line(line);
        if (!message) continue;
        ++parsed;
        EXPECT_FALSE(message->command.empty());
        EXPECT_LE(message->params.size(), 15u);
    }
    EXPECT_GT(parsed, 0u);
}

}  // namespace
}  // namespace hostline::chat::irc
