// Cron expressions in a time zone: when a schedule fires (docs/scheduling.md).
//
// Five fields, minute hour day-of-month month day-of-week, each `*`, a number, a range `a-b`,
// a step `*/n` or `a-b/n`, or a comma list of those; months and weekdays also by name
// (JAN-DEC, SUN-SAT, any case; 0 and 7 are Sunday). Or one of @hourly, @daily (= @midnight),
// @weekly, @monthly, @yearly (= @annually). As in Vixie cron, when both day fields are
// restricted (neither is `*`) a day matches if either does.
//
// Time zones come from the system's tz database (Howard Hinnant's date/tz.h). Local times that
// a DST change skips or repeats fire exactly once: a time in the spring-forward gap fires at
// the first instant after the gap (02:30 on a day that jumps from 02:00 to 03:00 fires at
// 03:00 local), and a time in the fall-back overlap fires at its first occurrence only.
// Except when the hour field matches every hour (`*`, @hourly): such a schedule follows the
// clock, firing in every hour that really happens, so not in the skipped hour and in both
// passes of the repeated one ("0 * * * *" fires 23 times on the spring day, 25 on the fall day).
//
// Pure: parse() and next_after() are thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace hostline::controller {

class CronSchedule {
  public:
    using TimePoint = std::chrono::sys_seconds;

    // Errors name the field and what was wrong: "day-of-month: 32 is out of range 1-31",
    // "unknown time zone 'Europe/Paris2'", "expected 5 fields, got 4".
    // An empty zone means UTC.
    static Result<CronSchedule> parse(const std::string& expression, const std::string& zone);

    // The first firing strictly after `after`. Error only for an expression that can never
    // fire (e.g. "0 0 30 2 *"), found within the next eight years.
    Result<TimePoint> next_after(TimePoint after) const;
    // The next `count` firings strictly after `after`, in order.
    Result<std::vector<TimePoint>> next_firings(TimePoint after, int count) const;

    const std::string& expression() const;  // as given
    const std::string& zone() const;        // as given; "UTC" when it was empty

    // The firing as a local time in the schedule's zone, for people: "2026-03-29 03:00 CEST".
    std::string local_text(TimePoint when) const;

  private:
    struct Fields;
    std::shared_ptr<const Fields> fields_;
};

}  // namespace hostline::controller
