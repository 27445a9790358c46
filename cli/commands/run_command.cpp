// `hostline run`: submit an ad-hoc command, stream its output per host, summarize.
#include <algorithm>
#include <string>
#include <vector>

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/commands/job_watch.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/output/host_output.hpp"
#include "cli/output/reports.hpp"
#include "cli/sigint_pipe.hpp"
#include "common/batch_size.hpp"
#include "common/duration.hpp"

namespace hostline::cli {

namespace {

// Exit status after Ctrl-C, as a shell reports a process ended by SIGINT.
constexpr int kDetachedStatus = 130;

struct RunOptions {
    std::string target;
    std::string timeout;
    std::vector<std::string> env;
    std::string cwd;
    std::string user;
    std::string group;
    std::string batch;       // a rollout (docs/scheduling.md, "Batches"): "2" or "25%"
    std::string batch_wait;  // a duration
    bool fail_fast = false;
    bool json = false;
    std::vector<std::string> argv;
};

nlohmann::json submission(const RunOptions& options) {
    nlohmann::json body = {{"target", options.target}, {"argv", options.argv}};
    if (!options.timeout.empty())
        body["timeout_ms"] = parse_duration(options.timeout).value().count();  // validated
    if (!options.env.empty()) {
        nlohmann::json env = nlohmann::json::object();
        for (const auto& pair : options.env) {
            const std::size_t eq = pair.find('=');  // validated: there is one
            env[pair.substr(0, eq)] = pair.substr(eq + 1);
        }
        body["env"] = std::move(env);
    }
    if (!options.cwd.empty()) body["cwd"] = options.cwd;
    if (!options.user.empty()) body["user"] = options.user;
    if (!options.group.empty()) body["group"] = options.group;
    if (!options.batch.empty()) body["batch"] = options.batch;
    if (!options.batch_wait.empty())
        body["batch_wait_ms"] = parse_duration(options.batch_wait).value().count();  // validated
    if (options.fail_fast) body["fail_fast"] = true;
    return body;
}

std::string join(const std::vector<std::string>& words) {
    std::string text;
    for (const auto& word : words) text += (text.empty() ? "" : ", ") + word;
    return text;
}

// The --json document: the job, its runs each with its output, and the hosts.
nlohmann::json result_document(const JobWatch& watch, const nlohmann::json& submitted) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& [id, run] : watch.runs()) {
        nlohmann::json entry = run;
        entry["output"] = watch.run_output(id);
        runs.push_back(std::move(entry));
    }
    return {{"job", watch.job()},
            {"runs", std::move(runs)},
            {"matched", array_field(submitted, "matched")},
            {"offline", array_field(submitted, "offline")}};
}

Result<int> run_job(ApiClient& api, const RunOptions& options, Console& console) {
    auto submitted = api.post("/api/v1/jobs", submission(options));
    if (!submitted) return submitted.error();
    const auto id = int_field(*submitted, "job");
    if (!id) return fail("the controller accepted the job but did not say its number");
    const std::string name = "#" + std::to_string(*id);
    const auto matched = strings_field(*submitted, "matched");
    const auto offline = strings_field(*submitted, "offline");

    if (!options.json) {
        console.err << "job " << name << " on " << matched.size()
                    << (matched.size() == 1 ? " host" : " hosts")
                    << (matched.empty() ? "" : ": " + join(matched)) << '\n';
        if (!offline.empty()) console.err << "offline (skipped): " << join(offline) << '\n';
        console.err.flush();
    }

    HostOutput output(console.out, 0);
    for (const auto& host : matched) output.fit_host(host);
    bool told_pending = false;
    JobWatch::Handlers handlers;
    handlers.on_notice = [&](const std::string& notice) {
        console.err << "hostline: " << notice << '\n';
    };
    if (!options.json) {
        handlers.on_output = [&](const OutputChunk& chunk) {
            output.write(chunk.agent, chunk.stream, chunk.data);
        };
        handlers.on_run = [&](const nlohmann::json& run) {
            if (is_final_run_state(text_field(run, "state")))
                output.finish(text_field(run, "agent"));
        };
        handlers.on_job = [&](const nlohmann::json& job) {
            if (told_pending || text_field(job, "state") != "pending_approval") return;
            console.err << "job " << name << " is waiting for approval\n";
            told_pending = true;
        };
    }

    JobWatch watch(api, *id, std::move(handlers));
    auto end = [&] {
        SigintPipe sigint;  // Ctrl-C detaches only while watching
        return watch.follow(sigint.fd());
    }();
    if (!end) return end.error();
    if (!options.json) output.finish_all();
    if (options.json) print_json(console.out, result_document(watch, *submitted));

    if (*end == JobWatch::End::interrupted) {
        console.err << "detached; job " << name << " keeps running — hostline job " << *id
                    << ", hostline cancel " << *id << '\n';
        return kDetachedStatus;
    }

    nlohmann::json runs = nlohmann::json::array();
    for (const auto& [run_id, run] : watch.runs()) runs.push_back(run);
    if (!options.json) {
        if (runs.empty())
            console.err << "job " << name << " " << text_field(watch.job(), "state")
                        << " with no runs\n";
        else
            console.err << render_run_summary(runs);
    }
    const bool all_succeeded =
        !runs.empty() && std::all_of(runs.begin(), runs.end(), [](const nlohmann::json& run) {
            return text_field(run, "state") == "succeeded";
        });
    return all_succeeded ? 0 : 1;
}

CLI::Validator duration_validator() {
    return CLI::Validator(
        [](std::string& text) {
            auto duration = parse_duration(text);
            return duration ? std::string() : duration.error().message;
        },
        "");
}

CLI::Validator env_validator() {
    return CLI::Validator(
        [](std::string& text) {
            const std::size_t eq = text.find('=');
            if (eq == std::string::npos || eq == 0)
                return "'" + text + "' is not K=V with a non-empty name K";
            return std::string();
        },
        "");
}

}  // namespace

void add_run_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<RunOptions>();
    auto* run = app.add_subcommand("run", "Run a command on the hosts a target selects");
    run->add_option("--on", options->target, "Target: web-01, web-*, role=web&env=prod, ...")
        ->required()
        ->type_name("TARGET");
    run->add_option("--timeout", options->timeout, "Stop the command after this long (e.g. 30s)")
        ->check(duration_validator())
        ->type_name("DURATION");
    run->add_option("--env", options->env, "Set an environment variable (repeatable)")
        ->check(env_validator())
        ->allow_extra_args(false)
        ->type_name("K=V");
    run->add_option("--cwd", options->cwd, "Working directory on the hosts")->type_name("DIR");
    run->add_option("--user", options->user,
                    "Run as this Unix user on the hosts (needs a root agent)")
        ->type_name("NAME");
    run->add_option("--group", options->group,
                    "Run as this Unix group (default: the user's primary group)")
        ->type_name("NAME");
    run->add_option("--batch", options->batch,
                    "At most this many hosts at once, or this share of them (e.g. 2, 25%)")
        ->check(CLI::Validator(
            [](std::string& text) {
                auto batch = parse_batch_size(text);
                return batch ? std::string() : batch.error().message;
            },
            ""))
        ->type_name("N|N%");
    run->add_option("--batch-wait", options->batch_wait,
                    "With --batch: a host's slot is free again this long after its run ends")
        ->check(duration_validator())
        ->type_name("DURATION");
    run->add_flag("--fail-fast", options->fail_fast,
                  "After a host's run fails, start no more (those running finish)");
    run->add_flag("--json", options->json, "Print one JSON document at the end, no streaming");
    run->add_option("argv", options->argv, "The command and its arguments, after --")
        ->required()
        ->type_name("ARGV");
    run->callback([options, &context] {
        if (context.after_dashes) options->argv = *context.after_dashes;
        run_api_command(context,
                        [&](ApiClient& api) { return run_job(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
