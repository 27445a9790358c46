#include "cli/output/format.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/duration.hpp"

namespace hostline::cli {

namespace {

constexpr std::array<std::string_view, 7> kFinalJobStates{
    "succeeded", "failed", "partial", "timed_out", "cancelled", "denied", "expired"};
constexpr std::array<std::string_view, 6> kFinalRunStates{"succeeded", "failed", "timed_out",
                                                          "cancelled", "lost",   "skipped"};

// Linux signal numbers: the agents run on Linux, whatever the CLI runs on.
constexpr std::array<std::string_view, 32> kSignalNames{
    "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};

// Order of the summary line: the usual outcomes first.
constexpr std::array<std::string_view, 12> kSummaryOrder{
    "succeeded", "failed",     "timed_out", "cancelled", "lost",    "skipped",
    "running",   "dispatched", "queued",    "unknown",   "partial", "denied"};

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool needs_quotes(std::string_view word) {
    if (word.empty()) return true;
    return std::any_of(word.begin(), word.end(), [](char c) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') ||
                          std::string_view("@%+=:,./-_").find(c) != std::string_view::npos ||
                          static_cast<unsigned char>(c) >= 0x80;
        return !safe;
    });
}

}  // namespace

bool is_final_job_state(std::string_view state) {
    return std::find(kFinalJobStates.begin(), kFinalJobStates.end(), state) !=
           kFinalJobStates.end();
}

bool is_final_run_state(std::string_view state) {
    return std::find(kFinalRunStates.begin(), kFinalRunStates.end(), state) !=
           kFinalRunStates.end();
}

std::string signal_name(std::int64_t signal) {
    if (signal > 0 && signal < static_cast<std::int64_t>(kSignalNames.size()))
        return std::string(kSignalNames[static_cast<std::size_t>(signal)]);
    return "SIG" + std::to_string(signal);
}

std::string format_exit(std::optional<std::int64_t> exit_code, std::optional<std::int64_t> signal) {
    if (exit_code) return std::to_string(*exit_code);
    if (signal) return signal_name(*signal);
    return "-";
}

std::string format_optional_duration(std::optional<std::int64_t> ms) {
    if (!ms) return "-";
    return format_duration(std::chrono::milliseconds(*ms));
}

std::string format_local_time(std::optional<std::int64_t> epoch_ms) {
    if (!epoch_ms || *epoch_ms == 0) return "-";
    const std::time_t seconds = static_cast<std::time_t>(*epoch_ms / 1000);
    std::tm local{};
    if (localtime_r(&seconds, &local) == nullptr) return "-";
    char text[32];
    if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local) == 0) return "-";
    return text;
}

std::string format_age(std::optional<std::int64_t> epoch_ms, std::int64_t now_ms) {
    if (!epoch_ms || *epoch_ms == 0) return "never";
    const std::int64_t seconds = (now_ms - *epoch_ms) / 1000;
    if (seconds < 1) return "just now";
    // Two units say enough: "2h5m ago", not "2h5m17s ago".
    constexpr std::array<std::int64_t, 4> kUnits{86400, 3600, 60, 1};
    std::int64_t shown = 0;
    int units = 0;
    std::int64_t rest = seconds;
    for (std::int64_t unit : kUnits) {
        if (rest >= unit) {
            shown += rest / unit * unit;
            rest %= unit;
            if (++units == 2) break;
        } else if (units > 0) {
            break;
        }
    }
    return format_duration(std::chrono::seconds(shown)) + " ago";
}

std::string format_bytes(std::int64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    constexpr std::array<const char*, 4> kUnits{"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
    return text;
}

std::string quote_argv(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& word : argv) {
        if (!line.empty()) line += ' ';
        if (!needs_quotes(word)) {
            line += word;
            continue;
        }
        line += '\'';
        for (char c : word) {
            if (c == '\'')
                line += "'\\''";
            else
                line += c;
        }
        line += '\'';
    }
    return line;
}

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return !is_utf8_continuation(c); }));
}

std::string truncate_to_width(std::string_view text, std::size_t width) {
    if (display_width(text) <= width) return std::string(text);
    if (width == 0) return {};
    // Keep width - 1 code points, then the ellipsis.
    std::size_t kept = 0;
    std::size_t end = 0;
    while (end < text.size()) {
        if (!is_utf8_continuation(text[end])) {
            if (kept == width - 1) break;
            ++kept;
        }
        ++end;
    }
    return std::string(text.substr(0, end)) + "…";
}

std::string summarize_states(const std::vector<std::string>& states) {
    if (states.empty()) return "no runs";
    std::map<std::string, int> counts;
    for (const auto& state : states) ++counts[state];
    std::string line;
    auto add = [&](const std::string& state, int count) {
        if (!line.empty()) line += ", ";
        std::string words = state;
        std::replace(words.begin(), words.end(), '_', ' ');
        line += std::to_string(count) + " " + words;
    };
    for (std::string_view state : kSummaryOrder) {
        auto it = counts.find(std::string(state));
        if (it == counts.end()) continue;
        add(it->first, it->second);
        counts.erase(it);
    }
    for (const auto& [state, count] : counts) add(state, count);
    return line;
}

}  // namespace hostline::cli
