#include "cli/output/reports.hpp"

#include <string_view>
#include <vector>

#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/output/table.hpp"

namespace hostline::cli {

namespace {

constexpr std::size_t kMinCommandWidth = 12;
constexpr std::size_t kMinShrinkWidth = 10;

std::string or_dash(std::string text) {
    return text.empty() ? "-" : text;
}

std::string exit_cell(const nlohmann::json& run) {
    return format_exit(int_field(run, "exit_code"), int_field(run, "signal"));
}

std::string duration_cell(const nlohmann::json& run) {
    return format_optional_duration(int_field(run, "duration_ms"));
}

std::string bytes_cell(const nlohmann::json& run) {
    const std::int64_t total =
        int_field(run, "stdout_bytes").value_or(0) + int_field(run, "stderr_bytes").value_or(0);
    std::string text = format_bytes(total);
    if (bool_field(run, "truncated")) text += " (truncated)";
    return text;
}

std::string labels_cell(const nlohmann::json& labels) {
    std::string text;
    for (const auto& [key, value] : labels.items()) {
        if (!text.empty()) text += ',';
        text += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
    return or_dash(text);
}

// "web-1", or "web-1 (attempt 2)" in a job whose command retried a run: each attempt is a
// run of its own, so the host alone would not say which one a row is.
std::string host_cell(const nlohmann::json& run, bool retried) {
    std::string host = text_field(run, "agent");
    if (retried) host += " (attempt " + std::to_string(int_field(run, "attempt").value_or(1)) + ")";
    return host;
}

// "queued (position 3)" while a run waits on the controller (docs/scheduling.md).
std::string state_cell(const nlohmann::json& run) {
    std::string state = text_field(run, "state");
    if (auto position = int_field(run, "queue_position"); position && *position > 0)
        state += " (position " + std::to_string(*position) + ")";
    return state;
}

bool any_retried(const nlohmann::json& runs) {
    for (const auto& run : runs)
        if (int_field(run, "attempt").value_or(1) > 1) return true;
    return false;
}

}  // namespace

std::string render_run_summary(const nlohmann::json& runs) {
    Table table({"HOST", "STATE", "EXIT", "DURATION"});
    std::vector<std::string> states;
    const bool retried = any_retried(runs);
    for (const auto& run : runs) {
        states.push_back(text_field(run, "state"));
        table.add_row(
            {host_cell(run, retried), state_cell(run), exit_cell(run), duration_cell(run)});
    }
    // The hosts a rollout's fail-fast never started (docs/scheduling.md, "Batches").
    constexpr std::string_view kNotStarted = "not started: ";
    std::string never_ran, why;
    for (const auto& run : runs) {
        const std::string error = text_field(run, "error");
        if (text_field(run, "state") != "skipped" || !error.starts_with(kNotStarted)) continue;
        never_ran += (never_ran.empty() ? "" : ", ") + text_field(run, "agent");
        why = error.substr(kNotStarted.size());
    }
    if (!never_ran.empty()) never_ran = "never ran (" + why + "): " + never_ran + "\n";
    if (table.empty()) return summarize_states(states) + "\n" + never_ran;
    return table.render() + summarize_states(states) + "\n" + never_ran;
}

std::string render_run_details(const nlohmann::json& runs, std::size_t width) {
    Table table({"HOST", "STATE", "EXIT", "DURATION", "BYTES", "ERROR"});
    table.set_shrinkable(5, kMinShrinkWidth);
    const bool retried = any_retried(runs);
    for (const auto& run : runs)
        table.add_row({host_cell(run, retried), state_cell(run), exit_cell(run), duration_cell(run),
                       bytes_cell(run), or_dash(text_field(run, "error"))});
    return table.render(width);
}

std::string render_job_header(const nlohmann::json& job) {
    std::string text = "job #" + std::to_string(int_field(job, "id").value_or(0)) + "  " +
                       text_field(job, "state");
    if (bool_field(job, "cancel_requested")) text += " (cancel requested)";
    text += '\n';
    auto add = [&text](std::string_view name, const std::string& value) {
        constexpr std::size_t kNameWidth = 11;
        text += "  ";
        text += name;
        text.append(kNameWidth - name.size(), ' ');
        text += value;
        text += '\n';
    };
    add("requester", or_dash(text_field(job, "requester")));
    add("source", or_dash(text_field(job, "source")));
    add("target", or_dash(text_field(job, "target")));
    add("command", or_dash(quote_argv(strings_field(job, "argv"))));
    if (const std::string name = text_field(job, "catalog_command"); !name.empty())
        add("catalog", name);
    // As chown writes it: "USER", "USER:GROUP", or ":GROUP" when only the group changes.
    const std::string user = text_field(job, "user");
    const std::string group = text_field(job, "group");
    if (!user.empty() || !group.empty()) add("run as", user + (group.empty() ? "" : ":" + group));
    add("timeout", format_optional_duration(int_field(job, "timeout_ms")));
    if (const std::string batch = text_field(job, "batch"); !batch.empty()) {
        std::string rollout = batch + " at a time";
        if (auto window = int_field(job, "batch_window");
            window && *window > 0 && std::to_string(*window) != batch)
            rollout += " (" + std::to_string(*window) + " hosts)";
        if (auto wait = int_field(job, "batch_wait_ms"); wait && *wait > 0)
            rollout += ", " + format_optional_duration(wait) + " between";
        if (bool_field(job, "fail_fast")) rollout += ", fail-fast";
        add("batch", rollout);
    } else if (bool_field(job, "fail_fast")) {
        add("batch", "all at once, fail-fast");
    }
    add("created", format_local_time(int_field(job, "created_at_ms")));
    add("finished", format_local_time(int_field(job, "finished_at_ms")));
    return text;
}

std::string render_jobs_table(const nlohmann::json& jobs, std::size_t width) {
    Table table({"ID", "STATE", "TARGET", "COMMAND", "REQUESTER", "CREATED"});
    table.set_shrinkable(3, kMinCommandWidth);
    for (const auto& job : jobs)
        table.add_row({"#" + std::to_string(int_field(job, "id").value_or(0)),
                       text_field(job, "state"), text_field(job, "target"),
                       quote_argv(strings_field(job, "argv")), text_field(job, "requester"),
                       format_local_time(int_field(job, "created_at_ms"))});
    return table.render(width);
}

std::string render_agents_table(const nlohmann::json& agents, std::int64_t now_ms,
                                std::size_t width) {
    Table table({"NAME", "STATE", "LABELS", "VERSION", "RUNNING/CAPACITY", "LAST SEEN"});
    table.set_shrinkable(2, kMinShrinkWidth);
    // Draining matters only while it is online: an offline agent gets no runs anyway.
    const auto state = [](const nlohmann::json& agent) {
        if (!bool_field(agent, "online")) return "offline";
        return bool_field(agent, "draining") ? "draining" : "online";
    };
    for (const auto& agent : agents)
        table.add_row({text_field(agent, "name"), state(agent),
                       labels_cell(object_field(agent, "labels")),
                       or_dash(text_field(agent, "version")),
                       std::to_string(int_field(agent, "running").value_or(0)) + "/" +
                           std::to_string(int_field(agent, "capacity").value_or(0)),
                       format_age(int_field(agent, "last_seen_ms"), now_ms)});
    return table.render(width);
}

}  // namespace hostline::cli
