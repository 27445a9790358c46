#include "chat/grammar/tokenizer.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hostline::chat {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The words of text, which must tokenize.
std::vector<std::string> words_of(std::string_view text) {
    auto words = tokenize(text);
    EXPECT_TRUE(words.ok()) << text << ": " << (words ? "" : words.error().message);
    return words ? *words : std::vector<std::string>{};
}

// The error tokenizing text (which must fail) gives.
std::string error_of(std::string_view text) {
    auto words = tokenize(text);
    EXPECT_FALSE(words.ok()) << text << " tokenized into " << (words ? words->size() : 0)
                             << " words";
    return words ? "" : words.error().message;
}

// Whether text is well-formed UTF-8 (a second opinion, written plainly).
bool is_valid_utf8(const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t n = b < 0x80           ? 1
                        : (b >> 5) == 0x6  ? 2
                        : (b >> 4) == 0xE  ? 3
                        : (b >> 3) == 0x1E ? 4
                                           : 0;
        if (n == 0 || i + n > text.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

TEST(Tokenizer, WhitespaceSeparatesWords) {
    EXPECT_THAT(words_of("deploy web  --force\t--on web-01"),
                ElementsAre("deploy", "web", "--force", "--on", "web-01"));
    EXPECT_THAT(words_of("   "), IsEmpty());
    EXPECT_THAT(words_of(""), IsEmpty());
}

TEST(Tokenizer, NoBreakSpaceSeparatesLikeASpace) {
    EXPECT_THAT(words_of("deploy\u00A0web\u3000now"), ElementsAre("deploy", "web", "now"));
}

TEST(Tokenizer, ShellMetacharactersAreOrdinaryCharacters) {
    EXPECT_THAT(words_of("echo $HOME `id` $(id) a;b c|d e&&f >out <in 2>&1 * ? ~ #x {a,b}"),
                ElementsAre("echo", "$HOME", "`id`", "$(id)", "a;b", "c|d", "e&&f", ">out", "<in",
                            "2>&1", "*", "?", "~", "#x", "{a,b}"));
}

TEST(Tokenizer, SingleQuotesAreLiteral) {
    EXPECT_THAT(words_of(R"(run 'role=web&env=prod' 'a \" b' 'x\')"),
                ElementsAre("run", "role=web&env=prod", R"(a \" b)", R"(x\)"));
}

TEST(Tokenizer, DoubleQuotesEscapeOnlyQuoteAndBackslash) {
    EXPECT_THAT(words_of(R"(say "he said \"hi\"" "back\\slash" "keep \n and \$")"),
                ElementsAre("say", R"(he said "hi")", R"(back\slash)", R"(keep \n and \$)"));
}

TEST(Tokenizer, BackslashOutsideQuotesMakesTheNextCharacterOrdinary) {
    EXPECT_THAT(words_of(R"(a\ b \'c\' \"d \\ \é)"), ElementsAre("a b", "'c'", "\"d", "\\", "é"));
}

TEST(Tokenizer, QuotedPartsJoinTheirWord) {
    EXPECT_THAT(words_of(R"(--on='web 01' pre"mid"'post')"),
                ElementsAre("--on=web 01", "premidpost"));
}

TEST(Tokenizer, EmptyQuotesAreAnEmptyWord) {
    EXPECT_THAT(words_of(R"(a '' "" b)"), ElementsAre("a", "", "", "b"));
}

TEST(Tokenizer, UnicodeWordsPassThrough) {
    EXPECT_THAT(words_of("notify équipe 日本語 'Ünïcödé ok' emoji🚀"),
                ElementsAre("notify", "équipe", "日本語", "Ünïcödé ok", "emoji🚀"));
}

TEST(Tokenizer, SmartQuotesQuote) {
    EXPECT_THAT(words_of("say “hello world” ‘it is’"), ElementsAre("say", "hello world", "it is"));
    // Inside smart quotes, plain quotes are ordinary, and the other way round.
    EXPECT_THAT(words_of("“a \"b\" 'c'” \"“d”\""), ElementsAre("a \"b\" 'c'", "“d”"));
    EXPECT_THAT(words_of(R"(“a \” b”)"), ElementsAre("a ” b"));
}

TEST(Tokenizer, ClosingSmartQuoteAloneIsAnApostrophe) {
    EXPECT_THAT(words_of("say don’t stop”"), ElementsAre("say", "don’t", "stop”"));
}

TEST(Tokenizer, UnclosedQuoteNamesTheColumn) {
    EXPECT_EQ(error_of("deploy web 'role=web"), "unclosed ' quote starting at column 12");
    EXPECT_EQ(error_of(R"(say "hi \")"), "unclosed \" quote starting at column 5");
    // Columns count characters, not bytes.
    EXPECT_EQ(error_of("équipe “oops"), "unclosed “ quote starting at column 8");
    EXPECT_EQ(error_of("x ‘oops’’ ‘"), "unclosed ‘ quote starting at column 11");
}

TEST(Tokenizer, TrailingBackslashIsRefused) {
    EXPECT_EQ(error_of(R"(echo a\)"), "trailing backslash at column 7 escapes nothing");
}

TEST(Tokenizer, NulAndControlBytesAreRefused) {
    using namespace std::string_literals;
    EXPECT_EQ(error_of("echo\x01x"), "control character U+0001 at column 5 is not allowed");
    EXPECT_EQ(error_of("ab\0c"s), "control character U+0000 at column 3 is not allowed");
    EXPECT_EQ(error_of("run\nrm -rf /"), "control character U+000A at column 4 is not allowed");
    EXPECT_EQ(error_of("a\rb"), "control character U+000D at column 2 is not allowed");
    EXPECT_EQ(error_of("a\x1b[31m"), "control character U+001B at column 2 is not allowed");
    EXPECT_EQ(error_of("a\x7f"), "control character U+007F at column 2 is not allowed");
    EXPECT_EQ(error_of("é\u0085"), "control character U+0085 at column 2 is not allowed");
    // Even inside quotes.
    EXPECT_EQ(error_of("say 'a\x02'"), "control character U+0002 at column 7 is not allowed");
}

TEST(Tokenizer, TabIsWhitespaceNotAControlCharacter) {
    EXPECT_THAT(words_of("a\tb\t'c\td'"), ElementsAre("a", "b", "c\td"));
}

TEST(Tokenizer, InvalidUtf8IsRefusedWithTheBytePosition) {
    EXPECT_EQ(error_of("abcdef\xff"), "invalid UTF-8 at byte 7");
    EXPECT_EQ(error_of("é\xc3"), "invalid UTF-8 at byte 3");              // truncated
    EXPECT_EQ(error_of("\xc0\xaf"), "invalid UTF-8 at byte 1");           // overlong '/'
    EXPECT_EQ(error_of("ab\xe0\x80\xaf"), "invalid UTF-8 at byte 3");     // overlong
    EXPECT_EQ(error_of("a\xed\xa0\x80"), "invalid UTF-8 at byte 2");      // a surrogate
    EXPECT_EQ(error_of("a\xf4\x90\x80\x80"), "invalid UTF-8 at byte 2");  // past U+10FFFF
    EXPECT_EQ(error_of("a\x80"), "invalid UTF-8 at byte 2");              // a lone continuation
}

TEST(Tokenizer, HundredKilobyteMessageIsRefusedWithTheLimit) {
    EXPECT_EQ(error_of(std::string(102400, 'a')), "message is 102400 bytes; the limit is 16384");
}

TEST(Tokenizer, MessageAtTheLimitIsRead) {
    std::string text = "echo " + std::string(kMaxMessageBytes - 5, 'x');
    ASSERT_EQ(text.size(), kMaxMessageBytes);
    EXPECT_EQ(words_of(text).size(), 2u);
    EXPECT_EQ(error_of(text + "x"), "message is 16385 bytes; the limit is 16384");
}

// Random bytes, and random strings of the characters the tokenizer treats specially, never
// crash it (the test build runs under ASan and UBSan); what it accepts comes out as valid
// UTF-8 words with no control characters.
TEST(Tokenizer, RandomInputNeverCrashes) {
    std::mt19937 random(20261124);
    // The first kBad pieces are invalid UTF-8 or control characters; the rest are readable.
    const std::vector<std::string> pieces = {"\xff",   "\xc3", "\x80", "\x01", std::string(1, '\0'),
                                             " ",      "\t",   "'",    "\"",   "\\",
                                             "a",      "Z",    "-",    "--",   "=",
                                             "é",      "“",    "”",    "‘",    "’",
                                             "\u00A0", "$",    "日"};
    const std::size_t kBad = 5;
    int accepted = 0;
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        const std::size_t length = random() % 64;
        for (std::size_t i = 0; i < length; ++i) {
            if (round % 4 == 0) {
                text += static_cast<char>(random() % 256);
            } else if (round % 4 == 1) {
                text += pieces[random() % pieces.size()];
            } else {
                text += pieces[kBad + random() % (pieces.size() - kBad)];
            }
        }
        auto words = tokenize(text);
        if (!words) {
            EXPECT_FALSE(words.error().message.empty());
            continue;
        }
        ++accepted;
        for (const std::string& word : *words) {
            EXPECT_TRUE(is_valid_utf8(word)) << "from input of " << text.size() << " bytes";
            for (char c : word) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
        }
    }
    EXPECT_GT(accepted, 100);  // the loop reaches the splitting, not only the refusals
}

}  // namespace
}  // namespace hostline::chat
