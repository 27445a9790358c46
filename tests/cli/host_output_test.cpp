#include "cli/output/host_output.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace hostline::cli {
namespace {

TEST(HostOutput, PrefixesEachLineWithItsHostPaddedToTheWidest) {
    std::ostringstream out;
    HostOutput output(out, 0);
    output.fit_host("web-01");
    output.fit_host("db-1");
    output.write("db-1", "stdout", "up 3 days\n");
    output.write("web-01", "stderr", "disk 91% full\n");
    EXPECT_EQ(out.str(), "db-1   | up 3 days\nweb-01 ! disk 91% full\n");
}

TEST(HostOutput, BuffersPartialLinesPerHostAndStream) {
    std::ostringstream out;
    HostOutput output(out, 2);
    output.write("a", "stdout", "hel");
    output.write("b", "stdout", "other\n");
    output.write("a", "stderr", "err-");
    output.write("a", "stdout", "lo\nwor");
    EXPECT_EQ(out.str(), "b  | other\na  | hello\n");
    output.finish("a");
    EXPECT_EQ(out.str(), "b  | other\na  | hello\na  | wor\na  ! err-\n");
    output.finish_all();  // nothing left
    EXPECT_EQ(out.str(), "b  | other\na  | hello\na  | wor\na  ! err-\n");
}

TEST(HostOutput, DropsTheCarriageReturnOfWindowsLineEnds) {
    std::ostringstream out;
    HostOutput output(out, 0);
    output.write("h", "stdout", "one\r\ntwo\r\n");
    EXPECT_EQ(out.str(), "h | one\nh | two\n");
}

}  // namespace
}  // namespace hostline::cli
