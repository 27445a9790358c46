// `hostline agents`: every known agent, online or not, and the keys waiting to be accepted;
// `agents token create`, `agents accept NAME`, `agents revoke NAME` (docs/agents.md);
// `agents drain NAME` and `agents undrain NAME` (docs/cli.md).
#include <chrono>
#include <iostream>

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/reports.hpp"
#include "common/duration.hpp"

namespace hostline::cli {

namespace {

Result<int> list_agents(ApiClient& api, bool json, Console& console) {
    auto answer = api.get_every_page("/api/v1/agents", "agents");
    if (!answer) return answer.error();
    if (json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& agents = array_field(*answer, "agents");
    std::string waiting;
    for (const auto& key : array_field(*answer, "keys"))
        if (text_field(key, "state") == "pending")
            waiting += "  " + text_field(key, "name") + "  pending  key " +
                       text_field(key, "fingerprint") + "\n";
    if (agents.empty() && waiting.empty()) {
        console.err << "no agents\n";
        return 0;
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    if (!agents.empty()) console.out << render_agents_table(agents, now.count(), console.width);
    if (!waiting.empty())
        console.out << "waiting to be accepted (hostline agents accept NAME):\n" << waiting;
    return 0;
}

// "k=v,k2=v2" -> {"k": "v", "k2": "v2"}
Result<nlohmann::json> parse_labels(const std::string& text) {
    nlohmann::json labels = nlohmann::json::object();
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = std::min(text.find(',', start), text.size());
        std::string pair = text.substr(start, end - start);
        std::size_t eq = pair.find('=');
        if (eq == std::string::npos || eq == 0)
            return fail("--labels: '" + pair + "' is not KEY=VALUE");
        labels[pair.substr(0, eq)] = pair.substr(eq + 1);
        start = end + 1;
    }
    return labels;
}

struct TokenOptions {
    std::string labels;
    std::string ttl = "1h";
    int uses = 1;
};

Result<int> create_token(ApiClient& api, const TokenOptions& options, bool json, Console& console) {
    auto labels = parse_labels(options.labels);
    if (!labels) return labels.error();
    auto ttl = parse_duration(options.ttl);
    if (!ttl) return fail("--ttl: " + ttl.error().message);
    auto answer = api.post(
        "/api/v1/agents/tokens",
        nlohmann::json{{"labels", *labels}, {"ttl_ms", ttl->count()}, {"uses", options.uses}});
    if (!answer) return answer.error();
    if (json) {
        print_json(console.out, *answer);
        return 0;
    }
    console.out << text_field(*answer, "token") << "\n";
    console.err << "token " << text_field(*answer, "id") << ": " << options.uses
                << " use(s), valid for " << options.ttl
                << "; on the host run: hostline-agent enroll TOKEN\n";
    return 0;
}

// Finds name among the controller's keys in the given state; error if it is not there.
Result<nlohmann::json> key_of(ApiClient& api, const std::string& name, const std::string& state) {
    auto answer = api.get("/api/v1/agents");
    if (!answer) return answer.error();
    for (const auto& key : array_field(*answer, "keys"))
        if (text_field(key, "name") == name && text_field(key, "state") == state) return key;
    if (state == "pending") return fail("no agent named " + name + " is waiting to be accepted");
    return fail("no agent named " + name + " is accepted");
}

bool confirmed(Console& console, const std::string& question) {
    console.err << question << " [y/N] " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) return false;
    return line == "y" || line == "Y" || line == "yes";
}

Result<int> change_key(ApiClient& api, const std::string& name, bool yes, bool accept,
                       Console& console) {
    const std::string state = accept ? "pending" : "accepted";
    if (!yes) {
        auto key = key_of(api, name, state);
        if (!key && !accept) key = key_of(api, name, "pending");
        if (!key) return key.error();
        std::string question = std::string(accept ? "accept" : "revoke") + " agent " + name +
                               " with key " + text_field(*key, "fingerprint") + "?";
        if (!confirmed(console, question)) {
            console.err << "nothing changed (use --yes to " << (accept ? "accept" : "revoke")
                        << " without asking)\n";
            return 1;
        }
    }
    auto answer = api.post(accept ? "/api/v1/agents/accept" : "/api/v1/agents/revoke",
                           nlohmann::json{{"name", name}});
    if (!answer) return answer.error();
    console.out << (accept ? "accepted " : "revoked ") << text_field(*answer, "name") << " (key "
                << text_field(*answer, "fingerprint") << ")\n";
    return 0;
}

// NAME goes into a URL path: only what an agent name may hold (controller/agents/
// key_directory.cpp), so nothing else reaches it.
CLI::Validator agent_name_validator() {
    return CLI::Validator(
        [](const std::string& name) -> std::string {
            if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-' ||
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789._-") != std::string::npos)
                return "an agent name is 1 to 64 letters, digits, '.', '_' or '-'";
            return {};
        },
        "NAME");
}

Result<int> change_draining(ApiClient& api, const std::string& name, bool drain, bool json,
                            Console& console) {
    auto answer = api.post("/api/v1/agents/" + name + (drain ? "/drain" : "/undrain"),
                           nlohmann::json::object());
    if (!answer) return answer.error();
    if (json) {
        print_json(console.out, *answer);
        return 0;
    }
    if (drain)
        console.out << name << " is draining: it gets no new runs and its queued runs wait; "
                    << "running ones finish (hostline agents undrain " << name << " ends it)\n";
    else
        console.out << name << " takes runs again\n";
    return 0;
}

}  // namespace

void add_agents_command(CLI::App& app, CommandContext& context) {
    auto json = std::make_shared<bool>(false);
    auto* agents = app.add_subcommand("agents", "List agents: state, labels, load, last seen");
    agents->add_flag("--json", *json, "Print the API document");
    agents->callback([json, agents, &context] {
        if (agents->get_subcommands().empty())
            run_api_command(
                context, [&](ApiClient& api) { return list_agents(api, *json, context.console); });
    });

    auto* token = agents->add_subcommand("token", "Enrollment tokens for new agents");
    token->require_subcommand(1);
    auto options = std::make_shared<TokenOptions>();
    auto* create = token->add_subcommand("create", "Print a one-line enrollment token");
    create->add_option("--labels", options->labels, "Labels for agents enrolled with it: k=v,...");
    create->add_option("--ttl", options->ttl, "How long it is valid (e.g. 30m, 1h, 7d)")
        ->capture_default_str();
    create->add_option("--uses", options->uses, "How many agents may enroll with it")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    create->add_flag("--json", *json, "Print the API document");
    create->callback([options, json, &context] {
        run_api_command(context, [&](ApiClient& api) {
            return create_token(api, *options, *json, context.console);
        });
    });

    for (bool accept : {true, false}) {
        auto name = std::make_shared<std::string>();
        auto yes = std::make_shared<bool>(false);
        auto* sub = agents->add_subcommand(
            accept ? "accept" : "revoke",
            accept ? "Accept a pending agent's key (shows its fingerprint first)"
                   : "Revoke an agent's key: cut it off now and refuse it from then on");
        sub->add_option("name", *name, "The agent's name")->required();
        sub->add_flag("-y,--yes", *yes, "Do not ask for confirmation");
        sub->callback([accept, name, yes, &context] {
            run_api_command(context, [&](ApiClient& api) {
                return change_key(api, *name, *yes, accept, context.console);
            });
        });
    }

    for (bool drain : {true, false}) {
        auto name = std::make_shared<std::string>();
        auto* sub = agents->add_subcommand(
            drain ? "drain" : "undrain",
            drain ? "Stop giving an agent new runs; running ones finish (before maintenance)"
                  : "Give a drained agent runs again, its queued ones first");
        sub->add_option("name", *name, "The agent's name")
            ->required()
            ->check(agent_name_validator());
        sub->add_flag("--json", *json, "Print the API document");
        sub->callback([drain, name, json, &context] {
            run_api_command(context, [&](ApiClient& api) {
                return change_draining(api, *name, drain, *json, context.console);
            });
        });
    }
}

}  // namespace hostline::cli
