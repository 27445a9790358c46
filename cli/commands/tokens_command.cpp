// `hostline tokens create|list|revoke`: API tokens, each acting as one identity
// (docs/api.md, Tokens). The secret is printed once, by create, on stdout alone.
#include <chrono>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/output/table.hpp"

namespace hostline::cli {

namespace {

struct CreateOptions {
    std::string name;
    std::string identity;
    std::string ttl;
    bool json = false;
};

Result<int> create_token(ApiClient& api, const CreateOptions& options, Console& console) {
    nlohmann::json body{{"name", options.name}, {"identity", options.identity}};
    if (!options.ttl.empty()) body["ttl"] = options.ttl;
    auto answer = api.post("/api/v1/tokens", body);
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& token = object_field(*answer, "token");
    const auto expires = int_field(token, "expires_at_ms");
    console.err << "token '" << text_field(token, "name") << "' acts as "
                << text_field(token, "identity")
                << (expires ? ", expires " + format_local_time(expires) : std::string())
                << ". Store it now: it is not shown again.\n";
    console.out << text_field(*answer, "secret") << '\n';
    return 0;
}

Result<int> list_tokens(ApiClient& api, bool json, Console& console) {
    auto answer = api.get_every_page("/api/v1/tokens", "tokens");
    if (!answer) return answer.error();
    if (json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& tokens = array_field(*answer, "tokens");
    if (tokens.empty()) {
        console.err << "no tokens (create one: hostline tokens create NAME --identity "
                       "platform:id)\n";
        return 0;
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    Table table({"NAME", "IDENTITY", "STATE", "CREATED BY", "CREATED", "EXPIRES", "LAST USED"});
    for (const auto& token : tokens) {
        const auto expires = int_field(token, "expires_at_ms");
        table.add_row({text_field(token, "name"), text_field(token, "identity"),
                       text_field(token, "state"), text_field(token, "created_by"),
                       format_local_time(int_field(token, "created_at_ms")),
                       expires ? format_local_time(expires) : "never",
                       format_age(int_field(token, "last_used_ms"), now)});
    }
    console.out << table.render(console.width);
    return 0;
}

Result<int> revoke_token(ApiClient& api, const std::string& name, Console& console) {
    auto answer = api.remove("/api/v1/tokens/" + name);
    if (!answer) return answer.error();
    console.out << "revoked token '" << name << "'\n";
    return 0;
}

// NAME goes into a URL path: only what a token name may hold, so nothing else reaches it.
CLI::Validator token_name_validator() {
    return CLI::Validator(
        [](const std::string& name) -> std::string {
            if (name.empty() || name.size() > 64 ||
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789._-") != std::string::npos)
                return "a token name is 1 to 64 letters, digits, '.', '_' or '-'";
            return {};
        },
        "NAME");
}

}  // namespace

void add_tokens_command(CLI::App& app, CommandContext& context) {
    auto* tokens = app.add_subcommand("tokens", "Manage API tokens: create, list, revoke");
    tokens->require_subcommand(1);

    auto create = std::make_shared<CreateOptions>();
    auto* creator = tokens->add_subcommand(
        "create", "Create a token acting as an identity; prints its secret once");
    creator->add_option("NAME", create->name, "The token's name")
        ->required()
        ->check(token_name_validator());
    creator
        ->add_option("--identity", create->identity,
                     "Who the API takes the token's holder for, e.g. slack:U024BE7LH")
        ->required()
        ->type_name("PLATFORM:ID");
    creator->add_option("--ttl", create->ttl, "Expire after this long, e.g. 30d [default: never]")
        ->type_name("DURATION");
    creator->add_flag("--json", create->json, "Print the API document");
    creator->callback([create, &context] {
        run_api_command(
            context, [&](ApiClient& api) { return create_token(api, *create, context.console); });
    });

    auto list_json = std::make_shared<bool>(false);
    auto* lister = tokens->add_subcommand("list", "List tokens (never their secrets)");
    lister->add_flag("--json", *list_json, "Print the API document");
    lister->callback([list_json, &context] {
        run_api_command(
            context, [&](ApiClient& api) { return list_tokens(api, *list_json, context.console); });
    });

    auto name = std::make_shared<std::string>();
    auto* revoker = tokens->add_subcommand("revoke", "Revoke a token: it stops working at once");
    revoker->add_option("NAME", *name, "The token's name")
        ->required()
        ->check(token_name_validator());
    revoker->callback([name, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return revoke_token(api, *name, context.console); });
    });
}

}  // namespace hostline::cli
