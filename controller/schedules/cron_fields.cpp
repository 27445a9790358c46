#include "controller/schedules/cron_fields.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/printable.hpp"

namespace hostline::controller {

namespace {

// How much of an input an error message quotes; the rest is elided.
constexpr std::size_t kMaxQuoted = 40;

constexpr std::array<std::string_view, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames{"SUN", "MON", "TUE", "WED",
                                                        "THU", "FRI", "SAT"};

// One of the five fields: its name in errors, its values and, for months and weekdays, the
// names that stand for them (names[i] is the value first + i).
struct FieldSpec {
    std::string_view name;
    unsigned first;
    unsigned last;
    const std::string_view* names = nullptr;
    std::size_t name_count = 0;
    bool sunday_twice = false;  // day-of-week: 0 and 7 are both Sunday
};

constexpr FieldSpec kMinute{"minute", 0, 59};
constexpr FieldSpec kHour{"hour", 0, 23};
constexpr FieldSpec kDay{"day-of-month", 1, 31};
constexpr FieldSpec kMonth{"month", 1, 12, kMonthNames.data(), kMonthNames.size()};
// 7 is Sunday too, as in every cron.
constexpr FieldSpec kWeekday{"day-of-week", 0, 7, kWeekdayNames.data(), kWeekdayNames.size(), true};

struct Macro {
    std::string_view name;
    std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros{{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

// Text as it may appear inside quotes in an error shown in chat.
std::string quoted(std::string_view text) {
    return "'" + printable(text, kMaxQuoted) + "'";
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_blank(text[i])) ++i;
        const std::size_t start = i;
        while (i < text.size() && !is_blank(text[i])) ++i;
        if (i > start) words.push_back(text.substr(start, i - start));
    }
    return words;
}

std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        items.push_back(text.substr(start, comma - start));
        if (comma == std::string_view::npos) return items;
        start = comma + 1;
    }
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) !=
            std::toupper(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::string field_error(const FieldSpec& spec, const std::string& what) {
    return std::string(spec.name) + ": " + what;
}

std::string range_text(unsigned first, unsigned last) {
    return std::to_string(first) + "-" + std::to_string(last);
}

// A number (digits only; long ones are out of range rather than overflowing) or, where the
// field has them, a name. `value` is range-checked against the field.
Result<unsigned> parse_value(const FieldSpec& spec, std::string_view text) {
    if (all_digits(text)) {
        const std::size_t digits = text.find_first_not_of('0');
        const std::string_view significant =
            digits == std::string_view::npos ? std::string_view("0") : text.substr(digits);
        unsigned value = 0;
        if (significant.size() <= 3) {
            for (char c : significant) value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (significant.size() > 3 || value < spec.first || value > spec.last) {
            const std::string shown = significant.size() > 12
                                          ? std::string(significant.substr(0, 12)) + "..."
                                          : std::string(significant);
            return fail(
                field_error(spec, shown + " is out of range " + range_text(spec.first, spec.last)));
        }
        return value;
    }
    if (spec.names != nullptr && !text.empty() &&
        std::isalpha(static_cast<unsigned char>(text[0]))) {
        for (std::size_t i = 0; i < spec.name_count; ++i) {
            if (equals_ignoring_case(text, spec.names[i])) {
                return static_cast<unsigned>(spec.first + i);
            }
        }
        return fail(field_error(spec, "unknown name " + quoted(text) + " (use " +
                                          std::string(spec.names[0]) + "-" +
                                          std::string(spec.names[spec.name_count - 1]) + ")"));
    }
    if (text.empty()) return fail(field_error(spec, "a number is missing"));
    return fail(field_error(spec, quoted(text) + " is not a number"));
}

// One item of a comma list: `*`, `N`, `A-B`, `*/S` or `A-B/S`. Sets its values in `bits`
// (indexed by value).
Result<void> parse_item(const FieldSpec& spec, std::string_view item, std::bitset<64>& bits) {
    if (item.empty()) return fail(field_error(spec, "an empty item in the list"));
    std::string_view range = item;
    unsigned step = 1;
    const std::size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
        range = item.substr(0, slash);
        const std::string_view step_text = item.substr(slash + 1);
        const unsigned max_step = spec.last - spec.first + 1;
        if (!all_digits(step_text)) {
            return fail(field_error(spec, "step " + quoted(step_text) + " is not a number"));
        }
        const std::size_t significant = step_text.find_first_not_of('0');
        if (significant != std::string_view::npos && step_text.size() - significant > 3) {
            return fail(field_error(spec, "step " + quoted(step_text.substr(significant)) +
                                              " is out of range " + range_text(1, max_step)));
        }
        step = 0;
        for (char c : step_text) step = step * 10 + static_cast<unsigned>(c - '0');
        if (step < 1 || step > max_step) {
            return fail(field_error(spec, "step " + std::to_string(step) + " is out of range " +
                                              range_text(1, max_step)));
        }
    }
    unsigned low = spec.first;
    unsigned high = spec.last;
    if (range == "*") {
        if (spec.sunday_twice) high = 6;  // `*` is each day once; 7 would be Sunday again
    } else {
        const std::size_t dash = range.find('-');
        auto from = parse_value(spec, range.substr(0, dash));
        if (!from) return from.error();
        low = high = *from;
        if (dash != std::string_view::npos) {
            const std::string_view to_text = range.substr(dash + 1);
            auto to = parse_value(spec, to_text);
            if (!to) return to.error();
            // FRI-SUN: a weekday range ending on Sunday by name ends on 7, as 5-7 does.
            high = (spec.sunday_twice && *to == 0 && !all_digits(to_text)) ? 7 : *to;
            if (high < low) {
                return fail(field_error(spec, "range " + quoted(range) + " is reversed"));
            }
        } else if (slash != std::string_view::npos) {
            return fail(field_error(spec,
                                    "a step needs * or a range before it, as in */15 or "
                                    "5-59/20, not " +
                                        quoted(item)));
        }
    }
    for (unsigned value = low; value <= high; value += step) bits.set(value);
    return {};
}

struct ParsedField {
    std::bitset<64> values;  // indexed by value
    bool starts_with_star = false;
};

Result<ParsedField> parse_field(const FieldSpec& spec, std::string_view text) {
    ParsedField field;
    field.starts_with_star = !text.empty() && text[0] == '*';
    for (std::string_view item : split_list(text)) {
        auto parsed = parse_item(spec, item, field.values);
        if (!parsed) return parsed.error();
    }
    return field;
}

template <std::size_t N>
std::bitset<N> narrowed(const std::bitset<64>& values) {
    std::bitset<N> out;
    for (std::size_t i = 0; i < N; ++i) out[i] = values[i];
    return out;
}

constexpr std::array<unsigned, 13> kLongestMonth{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

// When a day must match day-of-month, some chosen month must have some chosen day (30 Feb
// never comes); found here so that the schedule is refused when it is made.
bool some_day_exists(const CronFields& fields) {
    for (unsigned month = 1; month <= 12; ++month) {
        if (!fields.months[month]) continue;
        for (unsigned day = 1; day <= kLongestMonth[month]; ++day) {
            if (fields.days[day]) return true;
        }
    }
    return false;
}

}  // namespace

Result<CronFields> parse_cron_fields(std::string_view expression) {
    if (expression.size() > kMaxCronExpressionLength) {
        return fail("the cron expression is longer than " +
                    std::to_string(kMaxCronExpressionLength) + " characters");
    }
    std::vector<std::string_view> words = split_words(expression);
    if (!words.empty() && words[0].front() == '@') {
        const Macro* macro = nullptr;
        for (const Macro& candidate : kMacros) {
            if (equals_ignoring_case(words[0], candidate.name)) macro = &candidate;
        }
        if (macro == nullptr) {
            return fail("unknown macro " + quoted(words[0]) +
                        " (use @hourly, @daily, @weekly, @monthly or @yearly)");
        }
        if (words.size() > 1) {
            return fail(std::string(macro->name) + " stands alone: it takes no fields");
        }
        words = split_words(macro->fields);
    }
    if (words.size() != 5) {
        return fail("expected 5 fields, got " + std::to_string(words.size()));
    }
    auto minutes = parse_field(kMinute, words[0]);
    if (!minutes) return minutes.error();
    auto hours = parse_field(kHour, words[1]);
    if (!hours) return hours.error();
    auto days = parse_field(kDay, words[2]);
    if (!days) return days.error();
    auto months = parse_field(kMonth, words[3]);
    if (!months) return months.error();
    auto weekdays = parse_field(kWeekday, words[4]);
    if (!weekdays) return weekdays.error();

    CronFields fields;
    fields.minutes = narrowed<60>(minutes->values);
    fields.hours = narrowed<24>(hours->values);
    fields.days = narrowed<32>(days->values);
    fields.months = narrowed<13>(months->values);
    fields.weekdays = narrowed<7>(weekdays->values);
    if (weekdays->values[7]) fields.weekdays.set(0);
    fields.day_or_weekday = !days->starts_with_star && !weekdays->starts_with_star;
    if (!fields.day_or_weekday && !some_day_exists(fields)) {
        return fail("never fires: day-of-month " + quoted(words[2]) + " never occurs in month " +
                    quoted(words[3]));
    }
    return fields;
}

}  // namespace hostline::controller
