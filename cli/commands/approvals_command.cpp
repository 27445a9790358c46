// `hostline approvals [list] [--state S]`, `hostline approvals approve ID` and
// `hostline approvals deny ID --reason TEXT`: jobs that wait for approval, and deciding them.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/table.hpp"

namespace hostline::cli {

namespace {

struct ApprovalsOptions {
    std::string state;
    std::string id;
    std::string reason;
    bool json = false;
};

std::string joined(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

Result<int> list_approvals(ApiClient& api, const ApprovalsOptions& options, Console& console) {
    auto answer = api.get(with_query("/api/v1/approvals", {{"state", options.state}}));
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& list = array_field(*answer, "approvals");
    if (list.empty()) {
        console.err << "no " << (options.state.empty() ? "pending" : options.state)
                    << " approvals\n";
        return 0;
    }
    Table table({"JOB", "STATE", "REQUESTER", "APPROVALS", "GROUP", "HOSTS", "COMMAND", "REASON"});
    for (const auto& a : list) {
        table.add_row({"#" + std::to_string(int_field(a, "job").value_or(0)),
                       text_field(a, "state"), text_field(a, "requester"),
                       std::to_string(int_field(a, "approvals").value_or(0)) + "/" +
                           std::to_string(int_field(a, "count").value_or(0)),
                       text_field(a, "group"), joined(strings_field(a, "hosts"), ","),
                       joined(strings_field(a, "argv"), " "), text_field(a, "reason")});
    }
    table.set_shrinkable(6, 12);
    console.out << table.render(console.width);
    return 0;
}

Result<int> decide(ApiClient& api, const ApprovalsOptions& options, bool approve,
                   Console& console) {
    const std::int64_t id = parse_job_id(options.id).value();
    const std::string path =
        "/api/v1/approvals/" + std::to_string(id) + (approve ? "/approve" : "/deny");
    auto answer = approve ? api.post(path, nullptr)
                          : api.post(path, nlohmann::json{{"reason", options.reason}});
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& a = object_field(*answer, "approval");
    const std::string state = text_field(a, "state");
    if (state == "granted")
        console.out << "job #" << id << " approved: running on "
                    << joined(strings_field(a, "hosts"), ", ") << '\n';
    else if (state == "pending")
        console.out << "job #" << id << ": your approval is recorded ("
                    << int_field(a, "approvals").value_or(0) << " of "
                    << int_field(a, "count").value_or(0) << ")\n";
    else
        console.out << "job #" << id << " " << state << ": " << text_field(a, "reason") << '\n';
    return 0;
}

}  // namespace

void add_approvals_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<ApprovalsOptions>();
    auto* approvals = app.add_subcommand(
        "approvals", "Jobs waiting for approval; approve or deny them (default: list)");
    approvals->add_flag("--json", options->json, "Print the API document");
    approvals->fallthrough();

    auto* list = approvals->add_subcommand("list", "List approvals (default: the pending ones)");
    list->add_option("--state", options->state,
                     "pending, granted, denied, expired, or decided (the last three)")
        ->check(CLI::IsMember({"pending", "granted", "denied", "expired", "decided"}))
        ->type_name("STATE");

    auto* approve = approvals->add_subcommand("approve", "Approve a job waiting for approval");
    approve->add_option("id", options->id, "Job id: 42 or #42")
        ->required()
        ->check(job_id_validator())
        ->type_name("ID");

    auto* deny = approvals->add_subcommand("deny", "Deny a job waiting for approval");
    deny->add_option("id", options->id, "Job id: 42 or #42")
        ->required()
        ->check(job_id_validator())
        ->type_name("ID");
    deny->add_option("--reason", options->reason, "Why (shown to the requester)")
        ->required()
        ->type_name("TEXT");

    approvals->callback([options, approve, deny, &context] {
        run_api_command(context, [&](ApiClient& api) -> Result<int> {
            if (approve->parsed()) return decide(api, *options, true, context.console);
            if (deny->parsed()) return decide(api, *options, false, context.console);
            return list_approvals(api, *options, context.console);
        });
    });
}

}  // namespace hostline::cli
