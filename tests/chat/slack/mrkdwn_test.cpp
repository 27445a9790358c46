#include "chat/slack/mrkdwn.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostline::chat::slack {
namespace {

const JobLink kLink{"https://hostline.example/jobs/42", 42};
const std::string kNote = "… (cut; full output: <https://hostline.example/jobs/42|job #42>)";

bool is_valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c >= 0x80 && c < 0xC2) return false;
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

TEST(SlackMrkdwn, EscapesOnlyAmpersandAndAngleBrackets) {
    EXPECT_EQ(escape("a & b <c> *d* _e_ `f` \"g\""), "a &amp; b &lt;c&gt; *d* _e_ `f` \"g\"");
    EXPECT_EQ(escape("&amp;"), "&amp;amp;");
}

TEST(SlackMrkdwn, PlainTextRoundTripsEscaping) {
    const std::string text = "if a < b && c > d then <ok>";
    EXPECT_EQ(to_plain_text(escape(text)), text);
}

TEST(SlackMrkdwn, UnclosedAngleBracketIsKept) {
    EXPECT_EQ(to_plain_text("a <b"), "a <b");
}

TEST(SlackMrkdwn, ShortTextIsNotCut) {
    EXPECT_EQ(cut_to_fit("short", 100, kLink), "short");
    EXPECT_EQ(code_block("ls -l\n", 100, kLink), "```\nls -l\n```");
}

TEST(SlackMrkdwn, LongTextIsCutAtALineEndWithTheJobLink) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + "\n";
    const std::string cut = cut_to_fit(text, 500, kLink);
    EXPECT_LE(slack_length(cut), 500u);
    ASSERT_TRUE(cut.ends_with("\n" + kNote)) << cut;
    const std::string kept = cut.substr(0, cut.size() - kNote.size() - 1);
    EXPECT_TRUE(text.starts_with(kept + "\n")) << kept;  // whole lines only
    EXPECT_GT(kept.size(), 400u);
}

TEST(SlackMrkdwn, DefaultLimitsHoldForMessagesAndSections) {
    const std::string text(10'000, 'x');
    EXPECT_LE(slack_length(cut_to_fit(text, kMessageTextLimit, kLink)), 3900u);
    EXPECT_LE(slack_length(cut_to_fit(text, kSectionTextLimit, kLink)), 2900u);
    EXPECT_GT(slack_length(cut_to_fit(text, kMessageTextLimit, kLink)), 3800u);
    EXPECT_LE(slack_length(code_block(text, kMessageTextLimit, kLink)), 3900u);
}

TEST(SlackMrkdwn, MultiByteCharactersAreNeverSplit) {
    // 2-, 3- and 4-byte characters, no line ends, at every length around the cut.
    const std::string pieces[] = {"é", "€", "😀"};
    for (const auto& piece : pieces) {
        std::string text;
        for (int i = 0; i < 300; ++i) text += piece;
        for (std::size_t max = 100; max < 140; ++max) {
            const std::string cut = cut_to_fit(text, max, kLink);
            EXPECT_TRUE(is_valid_utf8(cut)) << piece << " at " << max;
            EXPECT_LE(slack_length(cut), max) << piece << " at " << max;
            const std::string block = code_block(text, max, kLink);
            EXPECT_TRUE(is_valid_utf8(block)) << piece << " at " << max;
            EXPECT_LE(slack_length(block), max) << piece << " at " << max;
        }
    }
}

TEST(SlackMrkdwn, AstralCharactersCountTwiceAsSlackDoes) {
    EXPECT_EQ(slack_length("a"), 1u);
    EXPECT_EQ(slack_length("é€"), 2u);
    EXPECT_EQ(slack_length("😀"), 2u);
}

TEST(SlackMrkdwn, CutNeverSplitsAnEntityOrALink) {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "&amp;<https://x.example/" + std::to_string(i) + "|x> ";
    for (std::size_t max = 150; max < 200; ++max) {
        const std::string cut = cut_to_fit(text, max, kLink);
        const std::string kept = cut.substr(0, cut.find("\n… (cut"));
        EXPECT_TRUE(kept.empty() || kept.ends_with(";") || kept.ends_with(">") ||
                    kept.ends_with(" "))
            << kept;
    }
}

TEST(SlackMrkdwn, OutputIsEscapedInsideTheBlock) {
    EXPECT_EQ(code_block("<html> & more", 100, kLink), "```\n&lt;html&gt; &amp; more\n```");
}

TEST(SlackMrkdwn, BackticksInOutputCannotEndTheBlock) {
    const std::string block = code_block("before\n```\nrm -rf /\n```\n``````after", 1000, kLink);
    ASSERT_TRUE(block.starts_with("```\n"));
    ASSERT_TRUE(block.ends_with("\n```"));
    const std::string inner = block.substr(4, block.size() - 8);
    EXPECT_EQ(inner.find("```"), std::string::npos) << inner;
    EXPECT_NE(inner.find("rm -rf /"), std::string::npos);
}

TEST(SlackMrkdwn, ACutCodeBlockIsClosedBeforeTheNote) {
    std::string output;
    for (int i = 0; i < 500; ++i) output += "output line " + std::to_string(i) + "\n";
    const std::string block = code_block(output, 1000, kLink);
    EXPECT_LE(slack_length(block), 1000u);
    EXPECT_TRUE(block.starts_with("```\noutput line 0\n"));
    EXPECT_TRUE(block.ends_with("\n```\n" + kNote)) << block.substr(block.size() - 150);
}

TEST(SlackMrkdwn, NoteWithoutUrlAndUrlWithBar) {
    EXPECT_EQ(cut_note(JobLink{"", 7}), "… (cut; full output: job #7)");
    EXPECT_EQ(cut_note(JobLink{"https://h/j?a=1&b=|x", 7}),
              "… (cut; full output: <https://h/j?a=1&amp;b=%7Cx|job #7>)");
}

TEST(SlackMrkdwn, TinyLimitGivesTheNoteAlone) {
    EXPECT_EQ(cut_to_fit(std::string(1000, 'x'), 10, kLink), kNote);
}

TEST(SlackMrkdwn, InvalidUtf8IsCutByteByByteWithoutCrashing) {
    std::string text(2000, '\xff');
    const std::string cut = cut_to_fit(text, 300, kLink);
    EXPECT_LE(slack_length(cut), 300u);
    EXPECT_TRUE(cut.ends_with(kNote));
}

}  // namespace
}  // namespace hostline::chat::slack
