// Cron expressions against known calendars: firings asserted as UTC instants and as the local
// text people see, across DST changes in two zones, leap days, month ends and step ranges.

#include "controller/schedules/cron.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "controller/schedules/cron_fields.hpp"

namespace hostline::controller {
namespace {

using TimePoint = CronSchedule::TimePoint;
using std::chrono::hours;
using std::chrono::minutes;

TimePoint utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
    return TimePoint{std::chrono::sys_days{std::chrono::year{year} / month / day}} + hours{hour} +
           minutes{minute};
}

// "2026-03-29T01:00Z"
std::string iso(TimePoint when) {
    const auto day = std::chrono::floor<std::chrono::days>(when);
    const std::chrono::year_month_day ymd{day};
    const auto since_midnight = std::chrono::floor<minutes>(when - day).count();
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(since_midnight / 60), static_cast<int>(since_midnight % 60));
    return text;
}

CronSchedule cron(const std::string& expression, const std::string& zone = "") {
    auto schedule = CronSchedule::parse(expression, zone);
    if (!schedule) {
        ADD_FAILURE() << "'" << expression << "' in '" << zone << "': " << schedule.error().message;
        return CronSchedule{};
    }
    return *schedule;
}

std::vector<TimePoint> next(const CronSchedule& schedule, TimePoint after, int count) {
    auto firings = schedule.next_firings(after, count);
    if (!firings) {
        ADD_FAILURE() << schedule.expression() << ": " << firings.error().message;
        return {};
    }
    return *firings;
}

// The firings as UTC instants and, beside each, the local text: "2026-03-29T01:00Z 03:00 CEST"
// (the local date is left out where it is the same day; the tests spell it where not).
std::vector<std::string> described(const CronSchedule& schedule, TimePoint after, int count) {
    std::vector<std::string> out;
    for (TimePoint when : next(schedule, after, count)) {
        out.push_back(iso(when) + " " + schedule.local_text(when));
    }
    return out;
}

// The firings from one local midnight to the next (given as UTC instants).
std::vector<TimePoint> firings_between(const CronSchedule& schedule, TimePoint from,
                                       TimePoint until) {
    std::vector<TimePoint> out;
    for (TimePoint when : next(schedule, from - std::chrono::seconds{1}, 60)) {
        if (when < until) out.push_back(when);
    }
    return out;
}

std::string error_of(const std::string& expression, const std::string& zone = "") {
    auto schedule = CronSchedule::parse(expression, zone);
    return schedule ? std::string("(parsed)") : schedule.error().message;
}

// --- DST: Europe/Berlin (2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00) ---

TEST(CronDst, BerlinSpringForwardFiresASkippedTimeOnceAtTheEndOfTheGap) {
    EXPECT_EQ(described(cron("30 2 * * *", "Europe/Berlin"), utc(2026, 3, 27), 4),
              (std::vector<std::string>{
                  "2026-03-27T01:30Z 2026-03-27 02:30 CET",
                  "2026-03-28T01:30Z 2026-03-28 02:30 CET",
                  "2026-03-29T01:00Z 2026-03-29 03:00 CEST",
                  "2026-03-30T00:30Z 2026-03-30 02:30 CEST",
              }));
}

TEST(CronDst, BerlinFallBackFiresARepeatedTimeAtItsFirstOccurrenceOnly) {
    EXPECT_EQ(described(cron("30 2 * * *", "Europe/Berlin"), utc(2026, 10, 24), 3),
              (std::vector<std::string>{
                  "2026-10-24T00:30Z 2026-10-24 02:30 CEST",
                  "2026-10-25T00:30Z 2026-10-25 02:30 CEST",
                  "2026-10-26T01:30Z 2026-10-26 02:30 CET",
              }));
    // Asked from inside the second pass through 02:00-03:00, the next is the next day's.
    EXPECT_EQ(iso(*cron("30 2 * * *", "Europe/Berlin").next_after(utc(2026, 10, 25, 1, 10))),
              "2026-10-26T01:30Z");
}

TEST(CronDst, BerlinDailyJobsOutsideTheChangeKeepTheirLocalTime) {
    EXPECT_EQ(described(cron("0 9 * * *", "Europe/Berlin"), utc(2026, 3, 28), 3),
              (std::vector<std::string>{
                  "2026-03-28T08:00Z 2026-03-28 09:00 CET",
                  "2026-03-29T07:00Z 2026-03-29 09:00 CEST",
                  "2026-03-30T07:00Z 2026-03-30 09:00 CEST",
              }));
    EXPECT_EQ(described(cron("45 0 * * *", "Europe/Berlin"), utc(2026, 10, 24), 3),
              (std::vector<std::string>{
                  "2026-10-24T22:45Z 2026-10-25 00:45 CEST",
                  "2026-10-25T23:45Z 2026-10-26 00:45 CET",
                  "2026-10-26T23:45Z 2026-10-27 00:45 CET",
              }));
    EXPECT_EQ(described(cron("15 3 * * *", "Europe/Berlin"), utc(2026, 10, 24, 12), 2),
              (std::vector<std::string>{
                  "2026-10-25T02:15Z 2026-10-25 03:15 CET",
                  "2026-10-26T02:15Z 2026-10-26 03:15 CET",
              }));
}

TEST(CronDst, BerlinHourlyFiresInEveryRealHourOnce) {
    const CronSchedule hourly = cron("0 * * * *", "Europe/Berlin");
    // 2026-03-29 00:00 CET is 2026-03-28T23:00Z; the next midnight (CEST) is 22:00Z.
    const auto spring = firings_between(hourly, utc(2026, 3, 28, 23), utc(2026, 3, 29, 22));
    ASSERT_EQ(spring.size(), 23u);
    for (std::size_t i = 1; i < spring.size(); ++i) EXPECT_EQ(spring[i] - spring[i - 1], hours{1});
    EXPECT_EQ(hourly.local_text(spring[1]), "2026-03-29 01:00 CET");
    EXPECT_EQ(hourly.local_text(spring[2]), "2026-03-29 03:00 CEST");
    // 2026-10-25 00:00 CEST is 2026-10-24T22:00Z; the next midnight (CET) is 23:00Z.
    const auto fall = firings_between(hourly, utc(2026, 10, 24, 22), utc(2026, 10, 25, 23));
    ASSERT_EQ(fall.size(), 25u);
    for (std::size_t i = 1; i < fall.size(); ++i) EXPECT_EQ(fall[i] - fall[i - 1], hours{1});
    EXPECT_EQ(hourly.local_text(fall[2]), "2026-10-25 02:00 CEST");
    EXPECT_EQ(hourly.local_text(fall[3]), "2026-10-25 02:00 CET");
    EXPECT_EQ(hourly.local_text(fall[4]), "2026-10-25 03:00 CET");
}

// --- DST: America/New_York (2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00) ---

TEST(CronDst, NewYorkSpringForwardFiresASkippedTimeOnceAtTheEndOfTheGap) {
    EXPECT_EQ(described(cron("30 2 * * *", "America/New_York"), utc(2026, 3, 7), 3),
              (std::vector<std::string>{
                  "2026-03-07T07:30Z 2026-03-07 02:30 EST",
                  "2026-03-08T07:00Z 2026-03-08 03:00 EDT",
                  "2026-03-09T06:30Z 2026-03-09 02:30 EDT",
              }));
}

TEST(CronDst, NewYorkFallBackFiresEachTimeOnce) {
    // 02:30 is after the repeated hour (01:00-02:00) here: once, in EST.
    EXPECT_EQ(described(cron("30 2 * * *", "America/New_York"), utc(2026, 10, 31), 3),
              (std::vector<std::string>{
                  "2026-10-31T06:30Z 2026-10-31 02:30 EDT",
                  "2026-11-01T07:30Z 2026-11-01 02:30 EST",
                  "2026-11-02T07:30Z 2026-11-02 02:30 EST",
              }));
    // 01:30 is in it: the first pass only.
    EXPECT_EQ(described(cron("30 1 * * *", "America/New_York"), utc(2026, 10, 31, 12), 2),
              (std::vector<std::string>{
                  "2026-11-01T05:30Z 2026-11-01 01:30 EDT",
                  "2026-11-02T06:30Z 2026-11-02 01:30 EST",
              }));
}

TEST(CronDst, NewYorkDailyJobsOutsideTheChangeKeepTheirLocalTime) {
    EXPECT_EQ(described(cron("0 12 * * *", "America/New_York"), utc(2026, 3, 7), 3),
              (std::vector<std::string>{
                  "2026-03-07T17:00Z 2026-03-07 12:00 EST",
                  "2026-03-08T16:00Z 2026-03-08 12:00 EDT",
                  "2026-03-09T16:00Z 2026-03-09 12:00 EDT",
              }));
    EXPECT_EQ(described(cron("0 23 * * *", "America/New_York"), utc(2026, 10, 31, 12), 2),
              (std::vector<std::string>{
                  "2026-11-01T03:00Z 2026-10-31 23:00 EDT",
                  "2026-11-02T04:00Z 2026-11-01 23:00 EST",
              }));
}

TEST(CronDst, NewYorkHourlyFiresInEveryRealHourOnce) {
    const CronSchedule hourly = cron("0 * * * *", "America/New_York");
    // 2026-03-08 00:00 EST is 05:00Z; the next midnight (EDT) is 2026-03-09T04:00Z.
    const auto spring = firings_between(hourly, utc(2026, 3, 8, 5), utc(2026, 3, 9, 4));
    ASSERT_EQ(spring.size(), 23u);
    for (std::size_t i = 1; i < spring.size(); ++i) EXPECT_EQ(spring[i] - spring[i - 1], hours{1});
    EXPECT_EQ(hourly.local_text(spring[2]), "2026-03-08 03:00 EDT");
    // 2026-11-01 00:00 EDT is 04:00Z; the next midnight (EST) is 2026-11-02T05:00Z.
    const auto fall = firings_between(hourly, utc(2026, 11, 1, 4), utc(2026, 11, 2, 5));
    ASSERT_EQ(fall.size(), 25u);
    for (std::size_t i = 1; i < fall.size(); ++i) EXPECT_EQ(fall[i] - fall[i - 1], hours{1});
    EXPECT_EQ(hourly.local_text(fall[1]), "2026-11-01 01:00 EDT");
    EXPECT_EQ(hourly.local_text(fall[2]), "2026-11-01 01:00 EST");
}

TEST(CronDst, QuarterHourlyFollowsTheClockThroughBothChanges) {
    const CronSchedule quarterly = cron("*/15 * * * *", "America/New_York");
    // The repeated hour 01:00-02:00 runs twice: eight firings in those two real hours.
    EXPECT_EQ(firings_between(quarterly, utc(2026, 11, 1, 5), utc(2026, 11, 1, 7)).size(), 8u);
    // The skipped hour does not run: 01:45 EST is followed by 03:00 EDT.
    EXPECT_EQ(described(quarterly, utc(2026, 3, 8, 6, 40), 2),
              (std::vector<std::string>{
                  "2026-03-08T06:45Z 2026-03-08 01:45 EST",
                  "2026-03-08T07:00Z 2026-03-08 03:00 EDT",
              }));
}

TEST(CronDst, SeveralSkippedTimesFireOnceTogether) {
    // 02:00, 02:20 and 02:40 do not exist on the spring day: one firing at 03:00, then 03:20.
    EXPECT_EQ(described(cron("*/20 2,3 * * *", "Europe/Berlin"), utc(2026, 3, 29), 3),
              (std::vector<std::string>{
                  "2026-03-29T01:00Z 2026-03-29 03:00 CEST",
                  "2026-03-29T01:20Z 2026-03-29 03:20 CEST",
                  "2026-03-29T01:40Z 2026-03-29 03:40 CEST",
              }));
}

TEST(CronDst, HalfHourChangeOnLordHoweFiresASkippedTimeAtTheEndOfTheGap) {
    // Australia/Lord_Howe moves from +10:30 to +11 at 02:00 on 2026-10-04: 02:00-02:30 is skipped.
    EXPECT_EQ(described(cron("15 2 * * *", "Australia/Lord_Howe"), utc(2026, 10, 2), 3),
              (std::vector<std::string>{
                  "2026-10-02T15:45Z 2026-10-03 02:15 +1030",
                  "2026-10-03T15:30Z 2026-10-04 02:30 +11",
                  "2026-10-04T15:15Z 2026-10-05 02:15 +11",
              }));
}

// --- leap days and month ends (UTC) ---

TEST(CronCalendar, LeapDayFiresOnlyInLeapYears) {
    const CronSchedule leap = cron("0 12 29 2 *");
    EXPECT_EQ(iso(*leap.next_after(utc(2026, 1, 1))), "2028-02-29T12:00Z");
    EXPECT_EQ(iso(*leap.next_after(utc(2028, 2, 29, 12))), "2032-02-29T12:00Z");
    // 2100 is not a leap year: from 2096 the next is 2104, eight years on.
    EXPECT_EQ(iso(*leap.next_after(utc(2096, 3, 1))), "2104-02-29T12:00Z");
}

TEST(CronCalendar, LastDaysOfTheMonthFireOnTheDaysThatExist) {
    std::vector<std::string> days;
    for (TimePoint when : next(cron("0 0 28-31 * *"), utc(2026, 1, 27), 13)) {
        days.push_back(iso(when).substr(0, 10));
    }
    EXPECT_EQ(days, (std::vector<std::string>{
                        "2026-01-28", "2026-01-29", "2026-01-30", "2026-01-31", "2026-02-28",
                        "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31", "2026-04-28",
                        "2026-04-29", "2026-04-30", "2026-05-28"}));
}

TEST(CronCalendar, TheThirtyFirstSkipsMonthsWithoutIt) {
    std::vector<std::string> days;
    for (TimePoint when : next(cron("0 0 31 * *"), utc(2026, 1, 1), 8)) {
        days.push_back(iso(when).substr(0, 10));
    }
    EXPECT_EQ(days,
              (std::vector<std::string>{"2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31",
                                        "2026-08-31", "2026-10-31", "2026-12-31", "2027-01-31"}));
}

// --- steps, lists, names ---

std::vector<std::string> isos(const CronSchedule& schedule, TimePoint after, int count) {
    std::vector<std::string> out;
    for (TimePoint when : next(schedule, after, count)) out.push_back(iso(when));
    return out;
}

TEST(CronSyntax, StepRangesOverWorkingHoursOnWeekdays) {
    // 2026-11-20 is a Friday; 9-17/2 is 9, 11, 13, 15, 17.
    EXPECT_EQ(
        isos(cron("*/15 9-17/2 * * MON-FRI"), utc(2026, 11, 20, 16, 50), 6),
        (std::vector<std::string>{"2026-11-20T17:00Z", "2026-11-20T17:15Z", "2026-11-20T17:30Z",
                                  "2026-11-20T17:45Z", "2026-11-23T09:00Z", "2026-11-23T09:15Z"}));
    EXPECT_EQ(isos(cron("*/15 9-17/2 * * MON-FRI"), utc(2026, 11, 23, 9, 50), 1),
              (std::vector<std::string>{"2026-11-23T11:00Z"}));
}

TEST(CronSyntax, StepFromAnOffset) {
    EXPECT_EQ(isos(cron("5-59/20 * * * *"), utc(2026, 5, 1, 10, 0), 4),
              (std::vector<std::string>{"2026-05-01T10:05Z", "2026-05-01T10:25Z",
                                        "2026-05-01T10:45Z", "2026-05-01T11:05Z"}));
}

TEST(CronSyntax, ListsOfValuesAndRanges) {
    EXPECT_EQ(
        isos(cron("0,30 8,12-13 * * *"), utc(2026, 5, 1, 9), 5),
        (std::vector<std::string>{"2026-05-01T12:00Z", "2026-05-01T12:30Z", "2026-05-01T13:00Z",
                                  "2026-05-01T13:30Z", "2026-05-02T08:00Z"}));
}

TEST(CronSyntax, MonthAndWeekdayNamesInAnyCase) {
    // Sundays in January and July: 2027-01-03 is the first after 2026-07-26.
    EXPECT_EQ(
        isos(cron("0 6 * jan,Jul sUn"), utc(2026, 7, 20), 3),
        (std::vector<std::string>{"2026-07-26T06:00Z", "2027-01-03T06:00Z", "2027-01-10T06:00Z"}));
    EXPECT_EQ(isos(cron("0 0 1 MAR-may *"), utc(2026, 1, 1), 4),
              (std::vector<std::string>{"2026-03-01T00:00Z", "2026-04-01T00:00Z",
                                        "2026-05-01T00:00Z", "2027-03-01T00:00Z"}));
}

TEST(CronSyntax, SevenAndZeroAndSunAreAllSunday) {
    const auto sundays = isos(cron("0 0 * * 0"), utc(2026, 11, 24), 3);
    EXPECT_EQ(sundays, (std::vector<std::string>{"2026-11-29T00:00Z", "2026-12-06T00:00Z",
                                                 "2026-12-13T00:00Z"}));
    EXPECT_EQ(isos(cron("0 0 * * 7"), utc(2026, 11, 24), 3), sundays);
    EXPECT_EQ(isos(cron("0 0 * * SUN"), utc(2026, 11, 24), 3), sundays);
    // Ranges may end on 7, or on SUN by name: Friday to Sunday.
    const std::vector<std::string> weekend{"2026-11-27T00:00Z", "2026-11-28T00:00Z",
                                           "2026-11-29T00:00Z", "2026-12-04T00:00Z"};
    EXPECT_EQ(isos(cron("0 0 * * 5-7"), utc(2026, 11, 24), 4), weekend);
    EXPECT_EQ(isos(cron("0 0 * * FRI-SUN"), utc(2026, 11, 24), 4), weekend);
}

TEST(CronSyntax, BothDayFieldsRestrictedMeansEitherMatches) {
    // Every 13th and every Friday (2026-11-06 is a Friday; 2026-12-13 a Sunday).
    EXPECT_EQ(
        isos(cron("0 0 13 * FRI"), utc(2026, 11, 1), 7),
        (std::vector<std::string>{"2026-11-06T00:00Z", "2026-11-13T00:00Z", "2026-11-20T00:00Z",
                                  "2026-11-27T00:00Z", "2026-12-04T00:00Z", "2026-12-11T00:00Z",
                                  "2026-12-13T00:00Z"}));
    // A day field starting with `*` counts as unrestricted (Vixie cron): both must match,
    // so odd days that are Fridays.
    EXPECT_EQ(
        isos(cron("0 0 */2 * FRI"), utc(2026, 11, 1), 3),
        (std::vector<std::string>{"2026-11-13T00:00Z", "2026-11-27T00:00Z", "2026-12-11T00:00Z"}));
}

TEST(CronSyntax, MacrosAreTheirFiveFieldForms) {
    const TimePoint after = utc(2026, 11, 24, 13, 49);
    EXPECT_EQ(isos(cron("@hourly"), after, 2),
              (std::vector<std::string>{"2026-11-24T14:00Z", "2026-11-24T15:00Z"}));
    EXPECT_EQ(isos(cron("@daily"), after, 2),
              (std::vector<std::string>{"2026-11-25T00:00Z", "2026-11-26T00:00Z"}));
    EXPECT_EQ(isos(cron("@midnight"), after, 2), isos(cron("@daily"), after, 2));
    EXPECT_EQ(isos(cron("@weekly"), after, 2),
              (std::vector<std::string>{"2026-11-29T00:00Z", "2026-12-06T00:00Z"}));
    EXPECT_EQ(isos(cron("@monthly"), after, 2),
              (std::vector<std::string>{"2026-12-01T00:00Z", "2027-01-01T00:00Z"}));
    EXPECT_EQ(isos(cron("@yearly"), after, 2),
              (std::vector<std::string>{"2027-01-01T00:00Z", "2028-01-01T00:00Z"}));
    EXPECT_EQ(isos(cron("@annually"), after, 2), isos(cron("@yearly"), after, 2));
    // In a zone, at local midnight.
    EXPECT_EQ(described(cron("@daily", "America/New_York"), after, 1),
              (std::vector<std::string>{"2026-11-25T05:00Z 2026-11-25 00:00 EST"}));
}

TEST(CronSchedule, NextFiveFiringsAreStrictlyAfterAndInOrder) {
    const CronSchedule schedule = cron("0 9 * * MON-FRI", "Europe/Berlin");
    EXPECT_EQ(described(schedule, utc(2026, 11, 26, 8), 5),
              (std::vector<std::string>{
                  "2026-11-27T08:00Z 2026-11-27 09:00 CET",
                  "2026-11-30T08:00Z 2026-11-30 09:00 CET",
                  "2026-12-01T08:00Z 2026-12-01 09:00 CET",
                  "2026-12-02T08:00Z 2026-12-02 09:00 CET",
                  "2026-12-03T08:00Z 2026-12-03 09:00 CET",
              }));
    // A firing time itself is not "after" it.
    EXPECT_EQ(iso(*schedule.next_after(utc(2026, 11, 27, 8))), "2026-11-30T08:00Z");
    EXPECT_EQ(next(schedule, utc(2026, 11, 26), 0).size(), 0u);
}

TEST(CronSchedule, KeepsExpressionAndZoneAsGiven) {
    const CronSchedule berlin = cron("  30 2 * * *", "Europe/Berlin");
    EXPECT_EQ(berlin.expression(), "  30 2 * * *");
    EXPECT_EQ(berlin.zone(), "Europe/Berlin");
    const CronSchedule plain = cron("@daily");
    EXPECT_EQ(plain.zone(), "UTC");
    EXPECT_EQ(plain.local_text(utc(2026, 3, 29, 1)), "2026-03-29 01:00 UTC");
}

// The field-by-field search agrees with a minute-by-minute scan of the same fields (in UTC,
// where every local minute happens once), over a year and a half of minutes for each expression.
TEST(CronSchedule, FieldStepsAgreeWithAMinuteByMinuteScan) {
    for (const char* expression :
         {"*/7 */5 * * *", "59 23 31 12 *", "0 0 29 2 *", "13 4 1-7 * MON", "0 12 */10 * 1-5",
          "30 1 15,L * *", "* * 1 1 *", "5-59/20 3 * FEB,AUG SAT,SUN", "0 0 31 * 2"}) {
        auto fields = parse_cron_fields(expression);
        auto schedule = CronSchedule::parse(expression, "UTC");
        if (!fields) {
            // "L" is not cron syntax here; the two parsers must agree on that too.
            EXPECT_FALSE(schedule.ok()) << expression;
            continue;
        }
        ASSERT_TRUE(schedule.ok()) << expression;
        TimePoint after = utc(2027, 12, 30, 12);
        const TimePoint until = utc(2029, 6, 1);
        int checked = 0;
        while (after < until && checked < 300) {
            auto fired = schedule->next_after(after);
            ASSERT_TRUE(fired.ok()) << expression;
            TimePoint scan = after + minutes{1};
            for (;; scan += minutes{1}) {
                const auto day = std::chrono::floor<std::chrono::days>(scan);
                const std::chrono::year_month_day ymd{day};
                const auto minute = std::chrono::floor<minutes>(scan - day).count();
                if (fields->minutes[static_cast<std::size_t>(minute % 60)] &&
                    fields->hours[static_cast<std::size_t>(minute / 60)] &&
                    fields->matches_day(static_cast<unsigned>(ymd.month()),
                                        static_cast<unsigned>(ymd.day()),
                                        std::chrono::weekday{day}.c_encoding())) {
                    break;
                }
            }
            ASSERT_EQ(iso(*fired), iso(scan)) << expression << " after " << iso(after);
            after = *fired;
            ++checked;
        }
    }
}

// --- errors name the field ---

TEST(CronErrors, OutOfRangeValuesNameTheField) {
    EXPECT_EQ(error_of("60 * * * *"), "minute: 60 is out of range 0-59");
    EXPECT_EQ(error_of("0 24 * * *"), "hour: 24 is out of range 0-23");
    EXPECT_EQ(error_of("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
    EXPECT_EQ(error_of("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
    EXPECT_EQ(error_of("0 0 * 13 *"), "month: 13 is out of range 1-12");
    EXPECT_EQ(error_of("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
    EXPECT_EQ(error_of("0 0 * * 1-99999999999999999999"),
              "day-of-week: 999999999999... is out of range 0-7");
}

TEST(CronErrors, BadStepsNameTheField) {
    EXPECT_EQ(error_of("*/0 * * * *"), "minute: step 0 is out of range 1-60");
    EXPECT_EQ(error_of("* */25 * * *"), "hour: step 25 is out of range 1-24");
    EXPECT_EQ(error_of("* * * * */x"), "day-of-week: step 'x' is not a number");
    EXPECT_EQ(error_of("5/15 * * * *"),
              "minute: a step needs * or a range before it, as in */15 or 5-59/20, not '5/15'");
}

TEST(CronErrors, ReversedRangesNameTheField) {
    EXPECT_EQ(error_of("0 17-9 * * *"), "hour: range '17-9' is reversed");
    EXPECT_EQ(error_of("0 0 * * FRI-MON"), "day-of-week: range 'FRI-MON' is reversed");
}

TEST(CronErrors, UnknownNamesAndWordsNameTheField) {
    EXPECT_EQ(error_of("0 0 * JANUARY *"), "month: unknown name 'JANUARY' (use JAN-DEC)");
    EXPECT_EQ(error_of("0 0 * * FUN"), "day-of-week: unknown name 'FUN' (use SUN-SAT)");
    EXPECT_EQ(error_of("0 MON * * *"), "hour: 'MON' is not a number");
    EXPECT_EQ(error_of("0 0 1,,2 * *"), "day-of-month: an empty item in the list");
    EXPECT_EQ(error_of("0 0 1- * *"), "day-of-month: a number is missing");
    EXPECT_EQ(error_of("@reboot"),
              "unknown macro '@reboot' (use @hourly, @daily, @weekly, @monthly or @yearly)");
    EXPECT_EQ(error_of("@daily 0"), "@daily stands alone: it takes no fields");
}

TEST(CronErrors, WrongFieldCount) {
    EXPECT_EQ(error_of("0 0 * *"), "expected 5 fields, got 4");
    EXPECT_EQ(error_of("0 0 0 * * *"), "expected 5 fields, got 6");
    EXPECT_EQ(error_of(""), "expected 5 fields, got 0");
    EXPECT_EQ(error_of(std::string(2000, '*')),
              "the cron expression is longer than 1024 characters");
}

TEST(CronErrors, UnknownZone) {
    EXPECT_EQ(error_of("0 0 * * *", "Europe/Paris2"), "unknown time zone 'Europe/Paris2'");
    EXPECT_EQ(error_of("0 0 * * *", "../../etc/passwd"), "unknown time zone '../../etc/passwd'");
    EXPECT_EQ(error_of("0 0 * * *", "zone.tab"), "unknown time zone 'zone.tab'");
    EXPECT_EQ(error_of("0 0 * * *", std::string("Europe/Berlin\n", 14)),
              "unknown time zone 'Europe/Berlin\\x0a'");
}

TEST(CronErrors, NeverFires) {
    EXPECT_EQ(error_of("0 0 30 2 *"), "never fires: day-of-month '30' never occurs in month '2'");
    EXPECT_EQ(error_of("0 0 31 APR,JUN,SEP,NOV *"),
              "never fires: day-of-month '31' never occurs in month 'APR,JUN,SEP,NOV'");
    // Found only by looking ahead: 29 February on a Sunday (`*/7` starts with `*`, so both
    // day fields must match) comes in 2032, and then not until 2060.
    auto rare = CronSchedule::parse("0 0 29 2 */7", "UTC");
    ASSERT_TRUE(rare.ok());
    EXPECT_EQ(iso(*rare->next_after(utc(2026, 1, 1))), "2032-02-29T00:00Z");
    auto beyond = rare->next_after(utc(2033, 1, 1));
    ASSERT_FALSE(beyond.ok());
    EXPECT_EQ(beyond.error().message,
              "never fires: '0 0 29 2 */7' matches no time in the next 8 years");
    EXPECT_FALSE(rare->next_firings(utc(2033, 1, 1), 5).ok());
}

}  // namespace
}  // namespace hostline::controller
