#include "cli/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hostline::cli {
namespace {

std::vector<std::string> feed_all(LineSplitter& splitter, const std::vector<std::string>& pieces) {
    std::vector<std::string> lines;
    for (const auto& piece : pieces)
        splitter.feed(piece, [&](std::string_view line) { lines.emplace_back(line); });
    return lines;
}

TEST(LineSplitter, JoinsALineCutAcrossPieces) {
    LineSplitter splitter;
    auto lines = feed_all(splitter, {"{\"type\":", "\"job\"}\n{\"ty", "pe\":\"run\"}\n"});
    EXPECT_EQ(lines, (std::vector<std::string>{"{\"type\":\"job\"}", "{\"type\":\"run\"}"}));
    EXPECT_TRUE(splitter.pending().empty());
}

TEST(LineSplitter, GivesEveryLineOfOnePiece) {
    LineSplitter splitter;
    auto lines = feed_all(splitter, {"a\nb\n\nc\n"});
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "", "c"}));
}

TEST(LineSplitter, KeepsTheUnfinishedLineUntilAsked) {
    LineSplitter splitter;
    auto lines = feed_all(splitter, {"done\npart", "ial"});
    EXPECT_EQ(lines, (std::vector<std::string>{"done"}));
    EXPECT_EQ(splitter.pending(), "partial");
    EXPECT_EQ(splitter.take_pending(), "partial");
    EXPECT_EQ(splitter.take_pending(), "");
}

TEST(LineSplitter, HandlesPiecesOfOneByte) {
    LineSplitter splitter;
    std::vector<std::string> pieces;
    for (char c : std::string("one\ntwo\n")) pieces.emplace_back(1, c);
    EXPECT_EQ(feed_all(splitter, pieces), (std::vector<std::string>{"one", "two"}));
}

}  // namespace
}  // namespace hostline::cli
