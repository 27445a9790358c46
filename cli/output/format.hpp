// How the CLI shows values to people: job and run states, exit codes, durations, times,
// sizes and command lines. Pure functions except format_local_time (reads the time zone);
// safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostline::cli {

// A job in one of these states will not change again: succeeded, failed, partial,
// timed_out, cancelled, denied, expired.
bool is_final_job_state(std::string_view state);

// A run in one of these states will not change again: succeeded, failed, timed_out,
// cancelled, lost, skipped.
bool is_final_run_state(std::string_view state);

// "SIGKILL" for 9 (Linux numbering, as the agents report it); "SIG<n>" when unnamed.
std::string signal_name(std::int64_t signal);

// The EXIT column: the exit code, else the name of the signal that ended the process,
// else "-".
std::string format_exit(std::optional<std::int64_t> exit_code, std::optional<std::int64_t> signal);

// format_duration of ms, or "-" when unknown.
std::string format_optional_duration(std::optional<std::int64_t> ms);

// Local time as "YYYY-MM-DD HH:MM:SS"; "-" when unknown or 0.
std::string format_local_time(std::optional<std::int64_t> epoch_ms);

// How long ago epoch_ms was, at now_ms: "3s ago", "1h2m ago", "just now"; "never" when
// unknown or 0. Shows at most the two largest units.
std::string format_age(std::optional<std::int64_t> epoch_ms, std::int64_t now_ms);

// "512 B", "1.5 KiB", "12.0 MiB".
std::string format_bytes(std::int64_t bytes);

// argv as a person would type it in a POSIX shell: words that need it in single quotes.
std::string quote_argv(const std::vector<std::string>& argv);

// Columns text takes in a terminal, counting each UTF-8 code point as one.
std::size_t display_width(std::string_view text);

// text cut to at most width columns, ending in "…" when cut (on a code point boundary).
std::string truncate_to_width(std::string_view text, std::size_t width);

// Counts of states in a fixed order, e.g. "2 succeeded, 1 failed, 1 timed out";
// "no runs" when states is empty.
std::string summarize_states(const std::vector<std::string>& states);

}  // namespace hostline::cli
