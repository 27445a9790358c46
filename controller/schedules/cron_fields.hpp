// The five fields of a cron expression as sets of values: the calendar half of CronSchedule,
// without time zones (cron.hpp states the syntax; cron.cpp walks the calendar with these).
//
// Pure: parse_cron_fields() is thread-safe.
#pragma once

#include <bitset>
#include <string_view>

#include "common/error.hpp"

namespace hostline::controller {

struct CronFields {
    std::bitset<60> minutes;  // 0-59
    std::bitset<24> hours;    // 0-23
    std::bitset<32> days;     // 1-31 (bit 0 unused)
    std::bitset<13> months;   // 1-12 (bit 0 unused)
    std::bitset<7> weekdays;  // 0-6, Sunday 0 (a 7 is folded into 0)
    // Vixie cron's rule: when either day field starts with '*', a day must match both fields
    // (one of them then matches every day, or is a step over all of them); otherwise a day
    // matching either fires.
    bool day_or_weekday = false;

    // Whether a calendar day fires: `weekday` 0-6 with Sunday 0.
    bool matches_day(unsigned month, unsigned day, unsigned weekday) const {
        if (!months[month]) return false;
        return day_or_weekday ? days[day] || weekdays[weekday] : days[day] && weekdays[weekday];
    }
};

// Longer expressions are refused before they are read.
inline constexpr std::size_t kMaxCronExpressionLength = 1024;

// Errors name the field and what was wrong: "day-of-month: 32 is out of range 1-31",
// "hour: range 17-9 is reversed", "expected 5 fields, got 4", and, for day fields that no
// month allows, "never fires: day-of-month '30' never occurs in month '2'".
Result<CronFields> parse_cron_fields(std::string_view expression);

}  // namespace hostline::controller
