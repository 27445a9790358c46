#include "common/duration.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hostline {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

// The milliseconds text (which must parse) stands for.
std::int64_t ms_of(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed ? "" : parsed.error().message);
    return parsed ? parsed->count() : -1;
}

// The error parsing text (which must fail) gives; every one names the input.
std::string error_of(std::string_view text) {
    auto parsed = parse_duration(text);
    EXPECT_FALSE(parsed.ok()) << text << " parsed as " << (parsed ? parsed->count() : 0);
    if (parsed) return "";
    EXPECT_THAT(parsed.error().message, HasSubstr("duration '" + std::string(text) + "'"));
    return parsed.error().message;
}

TEST(Duration, ParsesEachUnit) {
    EXPECT_EQ(ms_of("250ms"), 250);
    EXPECT_EQ(ms_of("30s"), 30'000);
    EXPECT_EQ(ms_of("10m"), 600'000);
    EXPECT_EQ(ms_of("2h"), 7'200'000);
    EXPECT_EQ(ms_of("1d"), 86'400'000);
}

TEST(Duration, AddsUpCombinedUnits) {
    EXPECT_EQ(ms_of("1h30m"), 5'400'000);
    EXPECT_EQ(ms_of("1d2h3m4s5ms"), 93'784'005);
    EXPECT_EQ(ms_of("1m90s"), 150'000);
    EXPECT_EQ(ms_of("2s500ms"), 2'500);
}

TEST(Duration, ZeroIsAllowed) {
    EXPECT_EQ(ms_of("0s"), 0);
    EXPECT_EQ(ms_of("0ms"), 0);
    EXPECT_EQ(ms_of("0h0m"), 0);
}

TEST(Duration, LeadingZerosAreAllowed) {
    EXPECT_EQ(ms_of("05m"), 300'000);
}

TEST(Duration, BareIntegerIsAnErrorSuggestingAUnit) {
    EXPECT_EQ(error_of("30"), "duration '30': no unit; say 30s, not 30");
    EXPECT_THAT(error_of("0"), HasSubstr("say 0s, not 0"));
}

TEST(Duration, EmptyIsAnError) {
    EXPECT_THAT(error_of(""), HasSubstr("empty"));
}

TEST(Duration, NegativeIsAnError) {
    EXPECT_THAT(error_of("-5s"), HasSubstr("must not be negative"));
    EXPECT_THAT(error_of("-0s"), HasSubstr("must not be negative"));
}

TEST(Duration, UnknownUnitIsAnErrorNamingIt) {
    EXPECT_EQ(error_of("5y"), "duration '5y': unknown unit 'y' (use ms, s, m, h or d)");
    EXPECT_THAT(error_of("5sec"), HasSubstr("unknown unit 'sec'"));
    EXPECT_THAT(error_of("5S"), HasSubstr("unknown unit 'S'"));
    EXPECT_THAT(error_of("1h5us"), HasSubstr("unknown unit 'us'"));
}

TEST(Duration, NumberWithoutAUnitAfterOthersIsAnError) {
    EXPECT_THAT(error_of("1h30"), HasSubstr("'30' has no unit"));
}

TEST(Duration, UnitsOutOfOrderOrRepeatedAreErrors) {
    EXPECT_THAT(error_of("30m1h"), HasSubstr("largest to smallest"));
    EXPECT_THAT(error_of("1m1m"), HasSubstr("largest to smallest"));
    EXPECT_THAT(error_of("5ms1s"), HasSubstr("largest to smallest"));
}

TEST(Duration, SpacesSignsFractionsAndStrayCharactersAreErrors) {
    EXPECT_THAT(error_of("1h 30m"), HasSubstr("found ' '"));
    EXPECT_THAT(error_of(" 5s"), HasSubstr("at column 1"));
    EXPECT_THAT(error_of("5s "), HasSubstr("at column 3"));
    EXPECT_THAT(error_of("+5s"), HasSubstr("found '+'"));
    EXPECT_THAT(error_of("1.5h"), HasSubstr("unexpected '.' at column 2"));
    EXPECT_THAT(error_of("s"), HasSubstr("expected a number at column 1"));
    EXPECT_THAT(error_of("ms"), HasSubstr("expected a number"));
}

TEST(Duration, TenYearsIsTheLongestAccepted) {
    EXPECT_EQ(ms_of("3650d"), kMaxDuration.count());
    EXPECT_EQ(ms_of("87600h"), kMaxDuration.count());
    EXPECT_THAT(error_of("3650d1ms"), HasSubstr("longer than 10 years"));
    EXPECT_THAT(error_of("3651d"), HasSubstr("longer than 10 years"));
    EXPECT_THAT(error_of("315360000001ms"), HasSubstr("longer than 10 years"));
}

TEST(Duration, HugeNumbersAreAnErrorNotAnOverflow) {
    EXPECT_THAT(error_of("99999999999999999999999999s"), HasSubstr("longer than 10 years"));
    EXPECT_THAT(error_of("9223372036854775807ms"), HasSubstr("longer than 10 years"));
    EXPECT_THAT(error_of("3649d48h"), HasSubstr("longer than 10 years"));
}

TEST(Duration, LongBadInputIsShortenedInTheMessage) {
    std::string text(500, '7');
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_LT(parsed.error().message.size(), 100u);
}

TEST(Duration, FormatsTheCanonicalForm) {
    EXPECT_EQ(format_duration(90'000ms), "1m30s");
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(1'500ms), "1s500ms");
    EXPECT_EQ(format_duration(1h), "1h");
    EXPECT_EQ(format_duration(24h), "1d");
    EXPECT_EQ(format_duration(milliseconds{93'784'005}), "1d2h3m4s5ms");
    EXPECT_EQ(format_duration(kMaxDuration), "3650d");
}

TEST(Duration, FormatsNegativesWithASign) {
    EXPECT_EQ(format_duration(-1'500ms), "-1s500ms");
    EXPECT_EQ(format_duration(milliseconds::min()).front(), '-');
}

TEST(Duration, CanonicalTextRoundTrips) {
    for (std::string text : {"0s", "250ms", "30s", "1m30s", "1h", "1h30m", "2h", "1d",
                             "1d2h3m4s5ms", "3650d", "59m59s999ms"}) {
        auto parsed = parse_duration(text);
        ASSERT_TRUE(parsed.ok()) << text;
        EXPECT_EQ(format_duration(*parsed), text);
    }
}

TEST(Duration, FormattedValuesParseBackExactly) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> any(0, kMaxDuration.count());
    std::uniform_int_distribution<std::int64_t> small(0, 200'000);
    std::vector<std::int64_t> values{
        0, 1, 999, 1'000, 59'999, 60'000, 3'599'999, 86'399'999, kMaxDuration.count()};
    for (int i = 0; i < 1000; ++i) values.push_back(any(rng));
    for (int i = 0; i < 1000; ++i) values.push_back(small(rng));
    for (std::int64_t value : values) {
        std::string text = format_duration(milliseconds{value});
        auto parsed = parse_duration(text);
        ASSERT_TRUE(parsed.ok()) << value << " -> " << text << ": " << parsed.error().message;
        EXPECT_EQ(parsed->count(), value) << text;
    }
}

TEST(Duration, RandomBytesNeverCrash) {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> length(0, 24);
    std::uniform_int_distribution<int> byte(0, 255);
    const std::string soup = "0123456789msmhd-+. ";
    std::uniform_int_distribution<std::size_t> pick(0, soup.size() - 1);
    for (int i = 0; i < 2000; ++i) {
        std::string text(static_cast<std::size_t>(length(rng)), '\0');
        // Half raw bytes, half characters a duration is made of.
        for (char& c : text) c = i % 2 ? static_cast<char>(byte(rng)) : soup[pick(rng)];
        auto parsed = parse_duration(text);
        if (parsed) {
            EXPECT_GE(parsed->count(), 0) << text;
            EXPECT_LE(*parsed, kMaxDuration) << text;
        } else {
            EXPECT_FALSE(parsed.error().message.empty());
        }
    }
}

}  // namespace
}  // namespace hostline
