// libFuzzer target: a cron expression and a time zone as `!schedule add "CRON" --tz ZONE`
// takes them (the input's first line is the expression, the rest the zone), through
// CronSchedule::parse, then next_after and next_firings from instants around DST changes.
//
// Besides not crashing: an error has a message; a firing is strictly after the instant asked
// about and is a time the fields match (in its first pass through a repeated hour, unless the
// schedule follows the clock), or the end of a spring-forward gap for one that does not;
// no matching time comes between (checked minute by minute for three hours); next_firings
// starts with next_after's answer and keeps going up. A broken promise aborts, which
// libFuzzer reports like a crash.
#include <date/tz.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "controller/schedules/cron.hpp"
#include "controller/schedules/cron_fields.hpp"

namespace {

using hostline::controller::CronFields;
using hostline::controller::CronSchedule;
using TimePoint = CronSchedule::TimePoint;
using std::chrono::minutes;

[[noreturn]] void broken(const std::string& what, std::string_view expression,
                         std::string_view zone, TimePoint after) {
    std::fprintf(stderr, "'%s' in '%s' after %lld: %s\n", std::string(expression).c_str(),
                 std::string(zone).c_str(),
                 static_cast<long long>(after.time_since_epoch().count()), what.c_str());
    std::abort();
}

TimePoint utc(int year, unsigned month, unsigned day, int hour, int minute) {
    return TimePoint{date::sys_days{date::year{year} / month / day}} + std::chrono::hours{hour} +
           minutes{minute};
}

// Just before, inside and after the 2026 changes in Europe (01:00Z) and North America
// (07:00Z and 06:00Z), a month end, and a leap day's eve.
const TimePoint kAfters[] = {
    utc(2026, 3, 29, 0, 30),  utc(2026, 10, 25, 0, 10),
    utc(2026, 10, 25, 1, 10), utc(2026, 3, 8, 6, 50),
    utc(2026, 11, 1, 5, 20),  utc(2026, 11, 1, 6, 20),
    utc(2026, 1, 31, 23, 59), utc(2028, 2, 28, 12, 0) + std::chrono::seconds{7},
};

bool matches(const CronFields& fields, date::local_seconds local) {
    const auto day = std::chrono::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const auto minute = std::chrono::floor<minutes>(local - day).count();
    return local == std::chrono::floor<minutes>(local) &&
           fields.minutes[static_cast<std::size_t>(minute % 60)] &&
           fields.hours[static_cast<std::size_t>(minute / 60)] &&
           fields.matches_day(static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                              date::weekday{day}.c_encoding());
}

// Whether `when` fires by the rule in cron.hpp.
bool fires_at(const CronFields& fields, const date::time_zone& zone, TimePoint when) {
    const bool follows_clock = fields.hours.all();
    const date::sys_info info = zone.get_info(when);
    const date::local_seconds local{when.time_since_epoch() + info.offset};
    if (matches(fields, local)) {
        const date::local_info passes = zone.get_info(local);
        const bool second_pass =
            passes.result == date::local_info::ambiguous && info.offset == passes.second.offset;
        if (follows_clock || !second_pass) return true;
    }
    if (follows_clock || when != info.begin) return false;
    // The end of a spring-forward gap: fires if a skipped local minute matches.
    const date::sys_info before = zone.get_info(info.begin - std::chrono::seconds{1});
    for (auto skipped = std::chrono::floor<minutes>(
             date::local_seconds{when.time_since_epoch() + before.offset});
         skipped < local; skipped += minutes{1}) {
        if (matches(fields, skipped)) return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t newline = input.find('\n');
    const std::string expression(input.substr(0, newline));
    const std::string zone(newline == std::string_view::npos ? std::string_view()
                                                             : input.substr(newline + 1));
    auto schedule = CronSchedule::parse(expression, zone);
    if (!schedule) {
        if (schedule.error().message.empty())
            broken("an error without a message", expression, zone, {});
        return 0;
    }
    if (schedule->expression() != expression) broken("expression changed", expression, zone, {});
    if (schedule->zone() != (zone.empty() ? "UTC" : zone))
        broken("zone changed", expression, zone, {});
    auto fields = hostline::controller::parse_cron_fields(expression);
    if (!fields) broken("fields refused what parse took", expression, zone, {});
    const date::time_zone* tz = date::locate_zone(schedule->zone());

    for (TimePoint after : kAfters) {
        auto next = schedule->next_after(after);
        if (!next) {
            if (next.error().message.empty())
                broken("an error without a message", expression, zone, after);
            continue;
        }
        if (*next <= after) broken("a firing not after the instant", expression, zone, after);
        if (!fires_at(*fields, *tz, *next))
            broken("a firing that does not match", expression, zone, after);
        const TimePoint scan_end = std::min(*next, after + std::chrono::hours{3});
        for (TimePoint t = std::chrono::ceil<minutes>(after + std::chrono::seconds{1});
             t < scan_end; t += minutes{1}) {
            if (fires_at(*fields, *tz, t))
                broken("an earlier firing was passed over", expression, zone, after);
        }
        auto firings = schedule->next_firings(after, 3);
        if (!firings || firings->empty() || firings->front() != *next) {
            broken("next_firings disagrees with next_after", expression, zone, after);
        }
        for (std::size_t i = 1; i < firings->size(); ++i) {
            if ((*firings)[i] <= (*firings)[i - 1])
                broken("firings out of order", expression, zone, after);
        }
        if (schedule->local_text(*next).empty()) broken("no local text", expression, zone, after);
    }
    return 0;
}
