// `hostline schedules [list]`, `hostline schedules show NAME`,
// `hostline schedules add CRON [--tz ZONE] [--name NAME] [--channel SOURCE] [--run-missed]
//  -- COMMAND...` and `hostline schedules pause|resume|remove NAME`: commands that run on a
// calendar (docs/scheduling.md).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/output/table.hpp"

namespace hostline::cli {

namespace {

struct SchedulesOptions {
    std::string name;
    std::string cron;
    std::string zone;
    std::string channel;
    bool run_missed = false;
    std::vector<std::string> command;
    bool json = false;
};

std::string state_of(const nlohmann::json& s) {
    return s.value("paused", false) ? "paused" : "active";
}

Result<int> list_schedules(ApiClient& api, const SchedulesOptions& options, Console& console) {
    auto answer = api.get("/api/v1/schedules");
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& list = array_field(*answer, "schedules");
    if (list.empty()) {
        console.err << "no schedules; add one with: hostline schedules add \"30 2 * * *\" -- "
                       "COMMAND...\n";
        return 0;
    }
    Table table({"NAME", "CRON", "ZONE", "STATE", "NEXT", "LAST JOB", "OWNER", "COMMAND"});
    for (const auto& s : list) {
        const auto next = int_field(s, "next_firing_ms").value_or(0);
        const auto last = int_field(s, "last_job").value_or(0);
        table.add_row({text_field(s, "name"), text_field(s, "cron"), text_field(s, "zone"),
                       state_of(s), next > 0 ? format_local_time(next) : "-",
                       last > 0 ? "#" + std::to_string(last) : "-", text_field(s, "owner"),
                       quote_argv(strings_field(s, "command"))});
    }
    table.set_shrinkable(7, 16);
    console.out << table.render(console.width);
    return 0;
}

void print_schedule(const nlohmann::json& s, Console& console) {
    console.out << "schedule " << text_field(s, "name") << " (" << state_of(s) << ")\n"
                << "  when:    " << text_field(s, "cron") << " in " << text_field(s, "zone") << '\n'
                << "  runs:    " << quote_argv(strings_field(s, "command")) << '\n'
                << "  owner:   " << text_field(s, "owner") << '\n';
    const std::string channel = text_field(s, "channel");
    if (!channel.empty()) console.out << "  reports: " << channel << '\n';
    if (s.value("run_missed", false))
        console.out << "  missed:  runs once at start after downtime\n";
    else
        console.out << "  missed:  skipped after downtime\n";
    const auto last = int_field(s, "last_job").value_or(0);
    if (last > 0)
        console.out << "  last:    job #" << last << " at "
                    << format_local_time(int_field(s, "last_fired_at_ms")) << '\n';
}

Result<int> show_schedule(ApiClient& api, const SchedulesOptions& options, Console& console) {
    auto answer = api.get("/api/v1/schedules/" + options.name);
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& s = object_field(*answer, "schedule");
    print_schedule(s, console);
    const auto& next = array_field(*answer, "next_ms");
    if (!s.value("paused", false) && !next.empty()) {
        console.out << "  next:\n";
        for (const auto& when : next)
            if (when.is_number_integer())
                console.out << "    " << format_local_time(when.get<std::int64_t>()) << '\n';
    }
    return 0;
}

Result<int> add_schedule(ApiClient& api, const SchedulesOptions& options, Console& console) {
    nlohmann::json body{
        {"cron", options.cron}, {"command", options.command}, {"run_missed", options.run_missed}};
    if (!options.zone.empty()) body["zone"] = options.zone;
    if (!options.name.empty()) body["name"] = options.name;
    if (!options.channel.empty()) body["channel"] = options.channel;
    auto answer = api.post("/api/v1/schedules", body);
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& s = object_field(*answer, "schedule");
    console.out << "added schedule " << text_field(s, "name");
    const auto next = int_field(s, "next_firing_ms").value_or(0);
    if (next > 0) console.out << "; first run " << format_local_time(next);
    console.out << '\n';
    return 0;
}

Result<int> change_schedule(ApiClient& api, const SchedulesOptions& options, const char* what,
                            Console& console) {
    const std::string path = "/api/v1/schedules/" + options.name;
    auto answer =
        std::string(what) == "remove" ? api.remove(path) : api.post(path + "/" + what, nullptr);
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const std::string done = std::string(what) == "remove" ? "removed" : std::string(what) + "d";
    console.out << done << " schedule " << options.name << '\n';
    return 0;
}

}  // namespace

void add_schedules_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<SchedulesOptions>();
    auto* schedules = app.add_subcommand(
        "schedules",
        "Commands that run on a calendar: list, show, add, pause, resume, remove "
        "(default: list)");
    schedules->add_flag("--json", options->json, "Print the API document");
    schedules->fallthrough();

    schedules->add_subcommand("list", "List the schedules");
    const auto named = [&](const char* name, const char* help) {
        auto* sub = schedules->add_subcommand(name, help);
        sub->add_option("name", options->name, "The schedule's name")
            ->required()
            ->type_name("NAME");
        return sub;
    };
    auto* show = named("show", "Show a schedule and its next 5 runs");
    auto* pause = named("pause", "Stop a schedule from firing until it is resumed");
    auto* resume = named("resume", "Let a paused schedule fire again");
    auto* remove = named("remove", "Delete a schedule (its jobs stay in history)");

    auto* add = schedules->add_subcommand(
        "add", "Add a schedule: hostline schedules add \"30 2 * * *\" -- backup --on role=db");
    add->add_option("cron", options->cron,
                    "5-field cron (\"30 2 * * 1-5\") or @hourly, @daily, @weekly, @monthly")
        ->required()
        ->type_name("CRON");
    add->add_option("--tz", options->zone, "Time zone, e.g. Europe/Berlin [default: UTC]")
        ->type_name("ZONE");
    add->add_option("--name", options->name, "A name [default: made from the command]")
        ->type_name("NAME");
    add->add_option("--channel", options->channel,
                    "Where each run's result is posted, e.g. irc:#ops or slack:C0123")
        ->type_name("SOURCE");
    add->add_flag("--run-missed", options->run_missed,
                  "After downtime, run once at start for the firings missed");
    add->add_option("command", options->command,
                    "The chat command to run, after --: backup --on role=db")
        ->required()
        ->type_name("COMMAND...");

    schedules->callback([options, show, pause, resume, remove, add, &context] {
        if (context.after_dashes) options->command = *context.after_dashes;
        run_api_command(context, [&](ApiClient& api) -> Result<int> {
            Console& console = context.console;
            if (add->parsed()) return add_schedule(api, *options, console);
            if (show->parsed()) return show_schedule(api, *options, console);
            if (pause->parsed()) return change_schedule(api, *options, "pause", console);
            if (resume->parsed()) return change_schedule(api, *options, "resume", console);
            if (remove->parsed()) return change_schedule(api, *options, "remove", console);
            return list_schedules(api, *options, console);
        });
    });
}

}  // namespace hostline::cli
