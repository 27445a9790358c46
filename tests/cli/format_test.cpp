#include "cli/output/format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace hostline::cli {
namespace {

TEST(Format, ExitShowsTheCodeThenTheSignalNameThenADash) {
    EXPECT_EQ(format_exit(0, std::nullopt), "0");
    EXPECT_EQ(format_exit(2, std::nullopt), "2");
    EXPECT_EQ(format_exit(std::nullopt, 9), "SIGKILL");
    EXPECT_EQ(format_exit(std::nullopt, 15), "SIGTERM");
    EXPECT_EQ(format_exit(std::nullopt, 99), "SIG99");
    EXPECT_EQ(format_exit(std::nullopt, std::nullopt), "-");
}

TEST(Format, DurationUsesTheCommonFormatOrADash) {
    EXPECT_EQ(format_optional_duration(1500), "1s500ms");
    EXPECT_EQ(format_optional_duration(90'000), "1m30s");
    EXPECT_EQ(format_optional_duration(0), "0s");
    EXPECT_EQ(format_optional_duration(std::nullopt), "-");
}

TEST(Format, StatesThatEndAJobOrARun) {
    for (const char* state :
         {"succeeded", "failed", "partial", "timed_out", "cancelled", "denied", "expired"})
        EXPECT_TRUE(is_final_job_state(state)) << state;
    for (const char* state : {"pending_approval", "queued", "running", ""})
        EXPECT_FALSE(is_final_job_state(state)) << state;
    for (const char* state : {"succeeded", "failed", "timed_out", "cancelled", "lost", "skipped"})
        EXPECT_TRUE(is_final_run_state(state)) << state;
    for (const char* state : {"queued", "dispatched", "running", "unknown"})
        EXPECT_FALSE(is_final_run_state(state)) << state;
}

TEST(Format, SummaryCountsStatesInAFixedOrder) {
    EXPECT_EQ(summarize_states({"failed", "succeeded", "succeeded"}), "2 succeeded, 1 failed");
    EXPECT_EQ(summarize_states({"timed_out", "succeeded", "lost"}),
              "1 succeeded, 1 timed out, 1 lost");
    EXPECT_EQ(summarize_states({}), "no runs");
}

TEST(Format, QuotesOnlyTheWordsThatNeedIt) {
    EXPECT_EQ(quote_argv({"ls", "-la", "/var/log"}), "ls -la /var/log");
    EXPECT_EQ(quote_argv({"echo", "hello world", ""}), "echo 'hello world' ''");
    EXPECT_EQ(quote_argv({"sh", "-c", "echo it's $HOME"}), "sh -c 'echo it'\\''s $HOME'");
    EXPECT_EQ(quote_argv({"systemctl", "restart", "nginx@main.service"}),
              "systemctl restart nginx@main.service");
}

TEST(Format, TruncatesOnCodePointsWithAnEllipsis) {
    EXPECT_EQ(truncate_to_width("abcdef", 6), "abcdef");
    EXPECT_EQ(truncate_to_width("abcdefg", 6), "abcde…");
    EXPECT_EQ(truncate_to_width("héllo wörld", 5), "héll…");
    EXPECT_EQ(display_width("héllo"), 5u);
    EXPECT_EQ(display_width(truncate_to_width("ääääääää", 4)), 4u);
}

TEST(Format, AgeIsRelativeWithTwoUnitsAtMost) {
    const std::int64_t now = 1'700'000'000'000;
    EXPECT_EQ(format_age(now - 3'000, now), "3s ago");
    EXPECT_EQ(format_age(now - 200, now), "just now");
    EXPECT_EQ(format_age(now - (2 * 3600 + 5 * 60 + 17) * 1000, now), "2h5m ago");
    EXPECT_EQ(format_age(now - (3600 + 17) * 1000, now), "1h ago");
    EXPECT_EQ(format_age(std::nullopt, now), "never");
    EXPECT_EQ(format_age(0, now), "never");
}

TEST(Format, BytesUseBinaryUnits) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(16 * 1024 * 1024), "16.0 MiB");
}

TEST(Format, LocalTimeIsYearFirstToTheSecond) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(format_local_time(1'700'000'000'123), "2023-11-14 22:13:20");
    EXPECT_EQ(format_local_time(std::nullopt), "-");
    EXPECT_EQ(format_local_time(0), "-");
}

}  // namespace
}  // namespace hostline::cli
