// The one file that calls date/tz.h: its exceptions (an unknown zone, an unreadable zone file)
// become errors here.
//
// next_after() walks local calendar time field by field (month, day, hour, minute: see
// next_local_match) and maps each matching local time to instants with the zone's rules.
#include "controller/schedules/cron.hpp"

#include <date/tz.h>

#include <optional>
#include <stdexcept>

#include "common/printable.hpp"
#include "controller/schedules/cron_fields.hpp"

namespace hostline::controller {

namespace {

using LocalMinutes = date::local_time<std::chrono::minutes>;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

// A firing is looked for this many years ahead before the expression is called one that never
// fires (29 February after a year like 2100 comes eight years later).
constexpr int kSearchYears = 8;
constexpr std::size_t kMaxZoneLength = 256;
constexpr int kMaxFirings = 1000;

// Instants the search accepts: the tz database and the calendar are well defined in between.
const CronSchedule::TimePoint kEarliest{date::sys_days{date::year{1900} / 1 / 1}};
const CronSchedule::TimePoint kLatest{date::sys_days{date::year{9000} / 1 / 1}};

Result<const date::time_zone*> find_zone(const std::string& name) {
    if (name.size() > kMaxZoneLength) return fail("unknown time zone '" + printable(name) + "'");
    try {
        date::get_tzdb();
    } catch (const std::exception& e) {
        return fail(std::string("the time zone database cannot be read: ") + e.what());
    }
    try {
        const date::time_zone* zone = date::locate_zone(name);
        // A zone's file is read on first use: read it now, so that a broken one is refused
        // here and not met by next_after().
        (void)zone->get_info(kEarliest);
        return zone;
    } catch (const std::exception&) {
        return fail("unknown time zone '" + printable(name) + "'");
    }
}

std::size_t next_set(const auto& bits, std::size_t from) {
    while (from < bits.size() && !bits[from]) ++from;
    return from;
}

// The first local minute at or after `from` whose fields all match, stepping over whole
// months, days and hours that cannot; nullopt past `last_year`.
std::optional<LocalMinutes> next_local_match(const CronFields& fields, LocalMinutes from,
                                             date::year last_year) {
    LocalMinutes t = from;
    for (;;) {
        const date::local_days day = std::chrono::floor<days>(t);
        const date::year_month_day ymd{day};
        if (ymd.year() > last_year) return std::nullopt;
        const auto month = static_cast<unsigned>(ymd.month());
        if (!fields.months[month]) {
            const std::size_t next = next_set(fields.months, month + 1);
            t = next < fields.months.size()
                    ? LocalMinutes{date::local_days{ymd.year() / date::month{unsigned(next)} / 1}}
                    : LocalMinutes{date::local_days{(ymd.year() + date::years{1}) / 1 / 1}};
            continue;
        }
        const unsigned weekday = date::weekday{day}.c_encoding();
        if (!fields.matches_day(month, static_cast<unsigned>(ymd.day()), weekday)) {
            t = day + days{1};
            continue;
        }
        const auto since_midnight = t - day;
        const auto hour =
            static_cast<std::size_t>(std::chrono::floor<hours>(since_midnight).count());
        if (!fields.hours[hour]) {
            const std::size_t next = next_set(fields.hours, hour + 1);
            t = next < fields.hours.size() ? day + hours{next} : day + days{1};
            continue;
        }
        const auto minute = static_cast<std::size_t>((since_midnight - hours{hour}).count());
        if (!fields.minutes[minute]) {
            const std::size_t next = next_set(fields.minutes, minute + 1);
            t = next < fields.minutes.size() ? day + hours{hour} + minutes{next}
                                             : day + hours{hour + 1};
            continue;
        }
        return t;
    }
}

}  // namespace

struct CronSchedule::Fields {
    CronFields fields;
    const date::time_zone* zone = nullptr;  // owned by the tz database, which lives forever
    std::string expression;
    std::string zone_name;
    // Every hour matches (`*` in the hour field): the schedule follows the clock through DST
    // changes, firing in each hour that happens, instead of once for each local time.
    bool follows_clock = false;

    // Where the local-order walk for firings after `after` starts. Local times repeated by a
    // fall-back change come twice, so when `after` is in or just before such an overlap the
    // walk starts at the overlap's first local time: a time there may still come (again).
    LocalMinutes walk_start(TimePoint after) const {
        const date::sys_info info = zone->get_info(after);
        LocalMinutes start = std::chrono::floor<minutes>(
            date::local_seconds{after.time_since_epoch() + info.offset});
        if (after - info.begin < days{2}) {
            const date::sys_info before = zone->get_info(info.begin - std::chrono::seconds{1});
            if (before.offset > info.offset && after < info.begin + (before.offset - info.offset)) {
                start = std::chrono::floor<minutes>(
                    date::local_seconds{info.begin.time_since_epoch() + info.offset});
            }
        }
        if (info.end - after < days{2}) {
            const date::sys_info next = zone->get_info(info.end);
            if (next.offset < info.offset && after >= info.end - (info.offset - next.offset)) {
                start = std::chrono::floor<minutes>(
                    date::local_seconds{info.end.time_since_epoch() + next.offset});
            }
        }
        return start;
    }
};

Result<CronSchedule> CronSchedule::parse(const std::string& expression, const std::string& zone) {
    auto fields = parse_cron_fields(expression);
    if (!fields) return fields.error();
    const std::string zone_name = zone.empty() ? "UTC" : zone;
    auto tz = find_zone(zone_name);
    if (!tz) return tz.error();
    auto parsed = std::make_shared<Fields>();
    parsed->fields = *fields;
    parsed->zone = *tz;
    parsed->expression = expression;
    parsed->zone_name = zone_name;
    parsed->follows_clock = fields->hours.all();
    CronSchedule schedule;
    schedule.fields_ = std::move(parsed);
    return schedule;
}

Result<CronSchedule::TimePoint> CronSchedule::next_after(TimePoint after) const {
    if (!fields_) return fail("no cron expression");
    if (after < kEarliest || after >= kLatest) {
        return fail("times before 1900 or after 8999 are not scheduled");
    }
    const Fields& f = *fields_;
    LocalMinutes from = f.walk_start(after);
    const date::year last_year =
        date::year_month_day{std::chrono::floor<days>(from)}.year() + date::years{kSearchYears};
    // Local matches come in local order; each one's first instant comes no earlier than the
    // one before's, so the walk stops at the first match whose first instant is after `after`.
    // Only second passes through a repeated hour come out of order, and those are kept too.
    std::optional<TimePoint> best;
    const auto consider = [&](TimePoint when) {
        if (when > after && (!best || when < *best)) best = when;
    };
    while (const std::optional<LocalMinutes> local = next_local_match(f.fields, from, last_year)) {
        from = *local + minutes{1};
        const date::local_info info = f.zone->get_info(date::local_seconds{*local});
        TimePoint first;
        if (info.result == date::local_info::nonexistent) {
            // Skipped by a spring-forward change: a schedule that follows the clock lets it go;
            // one for chosen hours fires when the gap ends.
            if (f.follows_clock) continue;
            first = info.first.end;
        } else {
            first = TimePoint{local->time_since_epoch() - info.first.offset};
            if (info.result == date::local_info::ambiguous && f.follows_clock) {
                consider(TimePoint{local->time_since_epoch() - info.second.offset});
            }
        }
        consider(first);
        if (first > after) break;
    }
    if (!best) {
        return fail("never fires: '" + printable(f.expression) + "' matches no time in the next " +
                    std::to_string(kSearchYears) + " years");
    }
    return *best;
}

Result<std::vector<CronSchedule::TimePoint>> CronSchedule::next_firings(TimePoint after,
                                                                        int count) const {
    if (count < 0 || count > kMaxFirings) {
        return fail("the number of firings must be 0-" + std::to_string(kMaxFirings));
    }
    std::vector<TimePoint> firings;
    firings.reserve(static_cast<std::size_t>(count));
    TimePoint from = after;
    for (int i = 0; i < count; ++i) {
        auto next = next_after(from);
        if (!next) {
            if (i == 0) return next.error();
            break;  // the rest lie beyond what is scheduled (the year 9000)
        }
        firings.push_back(*next);
        from = *next;
    }
    return firings;
}

const std::string& CronSchedule::expression() const {
    static const std::string kNone;
    return fields_ ? fields_->expression : kNone;
}

const std::string& CronSchedule::zone() const {
    static const std::string kNone;
    return fields_ ? fields_->zone_name : kNone;
}

std::string CronSchedule::local_text(TimePoint when) const {
    if (!fields_) return date::format("%Y-%m-%d %H:%M UTC", when);
    return date::format("%Y-%m-%d %H:%M %Z", date::make_zoned(fields_->zone, when));
}

}  // namespace hostline::controller
