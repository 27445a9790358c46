#include "chat/irc/irc_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace hostline::chat::irc {
namespace {

using Lines = std::vector<std::string>;

// Checks the splitter's contract against `text` (which must have no CR and no empty lines):
// every payload is valid UTF-8 within `limit`, and the payloads are the text in order with
// only line breaks and the single spaces they were split at taken out.
void expect_faithful_split(std::string_view text, const Lines& payloads, std::size_t limit) {
    std::size_t pos = 0;
    for (const auto& payload : payloads) {
        EXPECT_LE(payload.size(), limit) << payload;
        EXPECT_FALSE(payload.empty());
        EXPECT_TRUE(is_valid_utf8(payload)) << payload;
        EXPECT_EQ(payload.find('\n'), std::string::npos);
        while (pos < text.size() && text[pos] == '\n') ++pos;
        ASSERT_EQ(text.substr(pos, payload.size()), payload) << "at byte " << pos;
        pos += payload.size();
        if (pos < text.size() && text[pos] == ' ') ++pos;
    }
    while (pos < text.size() && text[pos] == '\n') ++pos;
    EXPECT_EQ(pos, text.size());
}

std::string repeat(std::string_view piece, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += piece;
    return out;
}

TEST(IrcText, StripsColorsAndFormatting) {
    EXPECT_EQ(strip_formatting("\x02"
                               "bold\x02 \x1Ditalic\x1D \x1Funder\x1F \x1Estrike\x1E "
                               "\x11mono\x11 \x16rev\x16\x0F."),
              "bold italic under strike mono rev.");
    EXPECT_EQ(strip_formatting("\x03"
                               "4red\x03 \x03"
                               "04,12red on blue\x03 plain"),
              "red red on blue plain");
    EXPECT_EQ(strip_formatting("\x03"
                               "123"),
              "3");  // at most two digits
    EXPECT_EQ(strip_formatting("\x03"
                               "4,123"),
              "3");  // background too
    EXPECT_EQ(strip_formatting("\x03"
                               "4,x"),
              ",x");                                        // comma without digit is text
    EXPECT_EQ(strip_formatting("\x03,5 text"), ",5 text");  // no foreground, no background
    EXPECT_EQ(strip_formatting("\x04"
                               "FF0000red\x04"),
              "red");
    EXPECT_EQ(strip_formatting("\x04"
                               "ff0000,00ff00x"),
              "x");
    EXPECT_EQ(strip_formatting("\x04"
                               "FF00 short"),
              "FF00 short");
    EXPECT_EQ(strip_formatting("\x03"), "");
    EXPECT_EQ(strip_formatting("\x04"), "");
    EXPECT_EQ(strip_formatting("héllo 🎉 \t done"), "héllo 🎉 \t done");
}

TEST(IrcText, ValidatesUtf8) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("héllo 日本語 🎉 \xF4\x8F\xBF\xBF"));
    EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xE6\x97"));          // truncated
    EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
}

TEST(IrcText, SanitizesOutgoingText) {
    EXPECT_EQ(sanitize_outgoing("ok\ttab\nnewline"), "ok\ttab\nnewline");
    EXPECT_EQ(sanitize_outgoing(std::string("a\0b\rc\x01\x07\x7f"
                                            "d",
                                            9)),
              "abcd");
    EXPECT_EQ(sanitize_outgoing("\x1b[1;31mred\x1b[0m plain \x1b"
                                "x"),
              "red plain x");
    EXPECT_EQ(sanitize_outgoing("\x02"
                                "bold\x03"
                                "4"),
              "bold4");
    EXPECT_EQ(sanitize_outgoing("a\xFF"
                                "b"),
              "a\xEF\xBF\xBD"
              "b");
    // A truncated sequence is one maximal subpart: one U+FFFD, not two.
    EXPECT_EQ(sanitize_outgoing("\xE6\x97!"), "\xEF\xBF\xBD!");
    EXPECT_EQ(sanitize_outgoing("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(sanitize_outgoing("日本語 🎉"), "日本語 🎉");
    EXPECT_TRUE(is_valid_utf8(sanitize_outgoing("\xC3\x28\xA0\xA1\xE2\x28\xA1\xF0\x28\x8C\xBC")));
}

TEST(IrcText, SplitsUnder512BytesOnUtf8Boundaries) {
    const std::size_t limit = privmsg_payload_limit("hostline!~hostline@203.0.113.7", "#jobs");
    // Emoji (4 bytes), CJK (3 bytes), accented Latin (2 bytes), no spaces to break at.
    const std::string emoji = repeat("🎉", 300);
    const std::string cjk = repeat("日本語", 120);
    const std::string mixed = repeat("é🎉日a", 150);
    for (const auto& text : {emoji, cjk, mixed}) {
        const auto payloads = split_for_privmsg(text, limit);
        EXPECT_GT(payloads.size(), 1u);
        expect_faithful_split(text, payloads, limit);
    }
    // Every limit from 4 upward keeps characters whole.
    for (std::size_t small = 4; small < 40; ++small) {
        expect_faithful_split(mixed, split_for_privmsg(mixed, small), small);
    }
    // With words too: still whole characters, still within the limit.
    const std::string words = repeat("デプロイ完了 🎉 web-01 ok ", 60);
    expect_faithful_split(words, split_for_privmsg(words, limit), limit);
}

TEST(IrcText, PrefersBreakingAtSpaces) {
    EXPECT_EQ(split_for_privmsg("alpha beta gamma", 11), (Lines{"alpha beta", "gamma"}));
    EXPECT_EQ(split_for_privmsg("alpha beta gamma", 10), (Lines{"alpha beta", "gamma"}));
    EXPECT_EQ(split_for_privmsg("alpha beta gamma", 9), (Lines{"alpha", "beta", "gamma"}));
    EXPECT_EQ(split_for_privmsg("abcdefghij klm", 4), (Lines{"abcd", "efgh", "ij", "klm"}));
    EXPECT_EQ(split_for_privmsg("日本 語", 7), (Lines{"日本", "語"}));
    const std::string text = repeat("word ", 300) + "end";
    const auto payloads = split_for_privmsg(text, 100);
    ASSERT_EQ(payloads.size(), 16u);  // 20 whole words (99 bytes) each, then "end"
    for (std::size_t i = 0; i + 1 < payloads.size(); ++i) {
        EXPECT_EQ(payloads[i], repeat("word ", 19) + "word");
    }
    EXPECT_EQ(payloads.back(), "end");
}

TEST(IrcText, EveryLineBreakStartsANewMessage) {
    EXPECT_EQ(split_for_privmsg("one\ntwo\r\nthree\rfour", 400),
              (Lines{"one", "two", "three", "four"}));
    EXPECT_EQ(split_for_privmsg("\n\nafter blanks\n\n\nend\n", 400),
              (Lines{"after blanks", "end"}));
    EXPECT_EQ(split_for_privmsg("", 400), Lines{});
    EXPECT_EQ(split_for_privmsg("text", 0), Lines{});
}

TEST(IrcText, PayloadLimitLeavesRoomForTheRelayedPrefix) {
    const std::string prefix = "hostline!~hostline@203.0.113.7";
    const std::string target = "#jobs";
    const auto limit = privmsg_payload_limit(prefix, target);
    const std::string relayed =
        ":" + prefix + " PRIVMSG " + target + " :" + std::string(limit, 'x') + "\r\n";
    EXPECT_EQ(relayed.size(), 512u);
    EXPECT_EQ(privmsg_payload_limit(std::string(600, 'n'), target), 0u);
}

TEST(IrcText, RandomBytesNeverCrashTheSplitter) {
    std::mt19937 random(424242);
    std::uniform_int_distribution<int> length(0, 2000);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> limit(0, 520);
    for (int iteration = 0; iteration < 5000; ++iteration) {
        std::string text(static_cast<std::size_t>(length(random)), '\0');
        for (auto& c : text) c = static_cast<char>(byte(random));
        const auto max = limit(random);
        for (const auto& payload : split_for_privmsg(text, max)) {
            ASSERT_LE(payload.size(), max);
            ASSERT_FALSE(payload.empty());
            ASSERT_EQ(payload.find_first_of("\r\n"), std::string::npos);
        }
        // What the adapter actually does: sanitise, then split. Valid UTF-8 stays valid.
        if (max >= 4) {
            for (const auto& payload : split_for_privmsg(sanitize_outgoing(text), max)) {
                ASSERT_TRUE(is_valid_utf8(payload));
            }
        }
        EXPECT_TRUE(is_valid_utf8(sanitize_outgoing(text)));
        (void)strip_formatting(text);
    }
}

}  // namespace
}  // namespace hostline::chat::irc
