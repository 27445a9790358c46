// What the API subcommands have in common: connecting, reporting errors, printing JSON and
// reading job ids. Only for cli/commands/*.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string_view>

#include <CLI/App.hpp>
#include <CLI/Validators.hpp>
#include <nlohmann/json.hpp>

#include "cli/api_client.hpp"
#include "cli/commands/commands.hpp"
#include "common/error.hpp"

namespace hostline::cli {

// The subcommands add_api_commands registers, one per file.
void add_run_command(CLI::App& app, CommandContext& context);
void add_jobs_command(CLI::App& app, CommandContext& context);
void add_job_command(CLI::App& app, CommandContext& context);
void add_agents_command(CLI::App& app, CommandContext& context);
void add_cancel_command(CLI::App& app, CommandContext& context);
void add_approvals_command(CLI::App& app, CommandContext& context);
void add_audit_command(CLI::App& app, CommandContext& context);
void add_tokens_command(CLI::App& app, CommandContext& context);
void add_policy_command(CLI::App& app, CommandContext& context);
void add_log_level_command(CLI::App& app, CommandContext& context);
void add_schedules_command(CLI::App& app, CommandContext& context);

// A client for the controller in context: its URL checked, its token read from the token
// file (contents, whitespace trimmed). Errors say how to set what is missing.
Result<ApiClient> connect_to_controller(const CommandContext& context);

// Connects, runs body and stores its exit status in context. An error from either is
// printed as "hostline: <message>" to err and makes the status 1.
void run_api_command(CommandContext& context,
                     const std::function<Result<int>(ApiClient& api)>& body);

// The one document --json prints: indented, on its own, ending in a newline.
void print_json(std::ostream& out, const nlohmann::json& document);

// "42" or "#42" as a job id.
Result<std::int64_t> parse_job_id(std::string_view text);

// Makes CLI11 refuse an ID argument parse_job_id does not accept (a usage mistake).
CLI::Validator job_id_validator();

}  // namespace hostline::cli
