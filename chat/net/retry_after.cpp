#include "chat/net/retry_after.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace hostline::chat::net {
namespace {

using std::chrono::seconds;

// About 31 years: more than any cap a caller sets, far from overflowing any clock.
constexpr std::int64_t kHugeSeconds = 1'000'000'000;

constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// The fields of an HTTP-date as written, before they are checked to name a real instant.
struct DateFields {
    int year = 0;
    int month = 0;  // 1..12
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

// Reads the grammar's pieces left to right; each step fails without consuming anything that
// matters, since a failed step fails the whole form.
class Cursor {
  public:
    explicit Cursor(std::string_view text) : rest_(text) {}

    bool literal(std::string_view expected) {
        if (rest_.substr(0, expected.size()) != expected) return false;
        rest_.remove_prefix(expected.size());
        return true;
    }
    // Exactly `count` digits.
    std::optional<int> digits(std::size_t count) {
        if (rest_.size() < count) return std::nullopt;
        int value = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (rest_[i] < '0' || rest_[i] > '9') return std::nullopt;
            value = value * 10 + (rest_[i] - '0');
        }
        rest_.remove_prefix(count);
        return value;
    }
    // The index of the name that starts the rest (names are case-sensitive, §5.6.7).
    template <std::size_t N>
    std::optional<int> one_of(const std::array<std::string_view, N>& names) {
        for (std::size_t i = 0; i < N; ++i) {
            if (literal(names[i])) return static_cast<int>(i);
        }
        return std::nullopt;
    }
    // time-of-day = hour ":" minute ":" second
    bool time_of_day(DateFields& date) {
        auto hour = digits(2);
        if (!hour || !literal(":")) return false;
        auto minute = digits(2);
        if (!minute || !literal(":")) return false;
        auto second = digits(2);
        if (!second) return false;
        date.hour = *hour;
        date.minute = *minute;
        date.second = *second;
        return true;
    }
    bool done() const { return rest_.empty(); }

  private:
    std::string_view rest_;
};

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
// days_from_civil), so no time zone or C library state is involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int days_in_month(int year, int month) {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

int year_of(std::chrono::system_clock::time_point now) {
    const auto days = std::chrono::floor<std::chrono::days>(now);
    return static_cast<int>(std::chrono::year_month_day(days).year());
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<DateFields> imf_fixdate(std::string_view text) {
    Cursor in(text);
    DateFields date;
    if (!in.one_of(kShortDays) || !in.literal(", ")) return std::nullopt;
    auto day = in.digits(2);
    if (!day || !in.literal(" ")) return std::nullopt;
    auto month = in.one_of(kMonths);
    if (!month || !in.literal(" ")) return std::nullopt;
    auto year = in.digits(4);
    if (!year || !in.literal(" ") || !in.time_of_day(date) || !in.literal(" GMT") || !in.done())
        return std::nullopt;
    date.day = *day;
    date.month = *month + 1;
    date.year = *year;
    return date;
}

// rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year more than 50 years ahead of
// `now` is the most recent past year with those digits (§5.6.7).
std::optional<DateFields> rfc850_date(std::string_view text, int current_year) {
    Cursor in(text);
    DateFields date;
    if (!in.one_of(kLongDays) || !in.literal(", ")) return std::nullopt;
    auto day = in.digits(2);
    if (!day || !in.literal("-")) return std::nullopt;
    auto month = in.one_of(kMonths);
    if (!month || !in.literal("-")) return std::nullopt;
    auto year = in.digits(2);
    if (!year || !in.literal(" ") || !in.time_of_day(date) || !in.literal(" GMT") || !in.done())
        return std::nullopt;
    int full = current_year - current_year % 100 + *year;
    if (full > current_year + 50) full -= 100;
    if (full <= current_year - 50) full += 100;
    date.day = *day;
    date.month = *month + 1;
    date.year = full;
    return date;
}

// asctime-date: "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space).
std::optional<DateFields> asctime_date(std::string_view text) {
    Cursor in(text);
    DateFields date;
    if (!in.one_of(kShortDays) || !in.literal(" ")) return std::nullopt;
    auto month = in.one_of(kMonths);
    if (!month || !in.literal(" ")) return std::nullopt;
    std::optional<int> day = in.literal(" ") ? in.digits(1) : in.digits(2);
    if (!day || !in.literal(" ") || !in.time_of_day(date) || !in.literal(" ")) return std::nullopt;
    auto year = in.digits(4);
    if (!year || !in.done()) return std::nullopt;
    date.day = *day;
    date.month = *month + 1;
    date.year = *year;
    return date;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

Result<seconds> parse_retry_after(std::string_view header,
                                  std::chrono::system_clock::time_point now) {
    header = trim(header);
    if (header.empty()) return fail("Retry-After is empty");

    if (std::all_of(header.begin(), header.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::int64_t value = 0;
        for (char c : header) {
            value = value * 10 + (c - '0');
            if (value >= kHugeSeconds) return seconds(kHugeSeconds);
        }
        return seconds(value);
    }

    std::optional<DateFields> date = imf_fixdate(header);
    if (!date) date = rfc850_date(header, year_of(now));
    if (!date) date = asctime_date(header);
    if (!date) return fail("Retry-After is neither a number of seconds nor an HTTP-date");
    // A leap second (60) is allowed; the instant is then the next minute's first second.
    if (date->month < 1 || date->month > 12 || date->day < 1 ||
        date->day > days_in_month(date->year, date->month) || date->hour > 23 ||
        date->minute > 59 || date->second > 60)
        return fail("Retry-After names a date that does not exist");

    const std::int64_t unix_seconds =
        days_from_civil(date->year, static_cast<unsigned>(date->month),
                        static_cast<unsigned>(date->day)) *
            86400 +
        date->hour * 3600 + date->minute * 60 + date->second;
    // Rounded up: with now = N + f (whole seconds N, fraction f), the wait ceil(date - N - f)
    // is date - N. Counted in seconds, since year 9999 in the clock's nanoseconds overflows.
    const std::int64_t now_seconds = std::chrono::floor<seconds>(now.time_since_epoch()).count();
    return seconds(std::clamp<std::int64_t>(unix_seconds - now_seconds, 0, kHugeSeconds));
}

seconds retry_after_wait(std::string_view header, std::chrono::system_clock::time_point now,
                         RetryAfterBounds bounds) {
    const auto parsed = parse_retry_after(header, now);
    if (!parsed) return bounds.fallback;
    return std::min(*parsed, bounds.longest);
}

}  // namespace hostline::chat::net
