// The comparison every scenario's verdict rests on: it must tell an exact copy from a
// prefix, and name what is wrong with anything else.
#include <gtest/gtest.h>

#include "faults/expected_output.hpp"
#include "faults/fault_support.hpp"

namespace hostline::faults {
namespace {

const WriterJob kJob{1, "a1", "check", 5, 0};

std::string lines(std::initializer_list<std::uint64_t> numbers) {
    std::string out;
    for (std::uint64_t n : numbers) out += writer_line(kJob.tag, n);
    return out;
}

TEST(OutputCheck, WriterLinesDifferFromEachOtherAndFromOtherTags) {
    EXPECT_NE(writer_line("check", 1), writer_line("check", 2));
    EXPECT_NE(writer_line("check", 1).substr(13), writer_line("other", 1).substr(13));
    EXPECT_EQ(writer_line("check", 7).size(), std::string("check").size() + 8 + 100 + 1);
    EXPECT_EQ(writer_line("check", 123).substr(0, 13), "check 000123 ");
}

TEST(OutputCheck, AnExactCopyIsExact) {
    EXPECT_EQ(check_output(kJob, kJob.expected()).match, OutputMatch::exact);
}

TEST(OutputCheck, AnyCutOfTheStartIsAPrefixEvenMidLine) {
    const std::string all = kJob.expected();
    EXPECT_EQ(check_output(kJob, "").match, OutputMatch::prefix);
    EXPECT_EQ(check_output(kJob, all.substr(0, 150)).match, OutputMatch::prefix);
    EXPECT_EQ(check_output(kJob, all.substr(0, all.size() - 1)).match, OutputMatch::prefix);
}

TEST(OutputCheck, ADuplicatedLineIsNamed) {
    const OutputCheck check = check_output(kJob, lines({0, 1, 2, 2, 3, 4}));
    EXPECT_EQ(check.match, OutputMatch::differs);
    EXPECT_NE(check.detail.find("DUPLICATED: 1 line(s) (2)"), std::string::npos) << check.detail;
}

TEST(OutputCheck, AGapIsNamed) {
    const OutputCheck check = check_output(kJob, lines({0, 1, 3, 4}));
    EXPECT_EQ(check.match, OutputMatch::differs);
    EXPECT_NE(check.detail.find("MISSING in the middle: 1 line(s) (2)"), std::string::npos)
        << check.detail;
}

TEST(OutputCheck, ReorderedLinesAreNamed) {
    const OutputCheck check = check_output(kJob, lines({0, 2, 1, 3, 4}));
    EXPECT_EQ(check.match, OutputMatch::differs);
    EXPECT_NE(check.detail.find("REORDERED: 1 after 2"), std::string::npos) << check.detail;
}

TEST(OutputCheck, ForeignBytesAreNamed) {
    const OutputCheck check = check_output(kJob, lines({0, 1}) + "garbage\n" + lines({2, 3, 4}));
    EXPECT_EQ(check.match, OutputMatch::differs);
    EXPECT_NE(check.detail.find("1 line(s) the writer never printed (first: \"garbage\")"),
              std::string::npos)
        << check.detail;
}

}  // namespace
}  // namespace hostline::faults
