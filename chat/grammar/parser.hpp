// From a chat message to a ParsedCommand: is the message for the bot, and what does it say.
//
//   addressed_text("hostline: deploy web --on web-01", {.bot_name = "hostline"}) -> "deploy ..."
//   parse_command("deploy web --force --on web-01 --batch 25% -- -la")
//     -> name "deploy", tokens [web, --force, -la (after --)], target web-01, batch 25%
//
// Pure functions, safe from any thread. See docs/chat.md, section "Grammar".
#pragma once

#include <optional>
#include <string_view>

#include "chat/grammar/command.hpp"
#include "common/error.hpp"

namespace hostline::chat {

// The command text of message if it is addressed to the bot, nullopt if it is ordinary chat
// the bot must ignore. Leading spaces and tabs are skipped, then a message is addressed when
// it starts with
//   - the prefix: "!deploy web" -> "deploy web" (a lone "!" gives "");
//   - a mention of the bot's name, case-insensitive, as "hostline: x", "hostline, x" or
//     "@hostline x" (an "!" right after the mention is also skipped: "@hostline !help");
//   - anything, in a direct message (a leading prefix is skipped there too).
// An empty prefix or bot_name turns that way of addressing off. Platform mention markup
// (Slack's "<@U123>") is the adapter's to turn into the name first. The result is a view
// into message.
std::optional<std::string_view> addressed_text(std::string_view message, const Addressing& a);

// Reads command text (what addressed_text returned): tokenizes it (tokenizer.hpp), lowercases
// the first word as the command name ([a-z][a-z0-9_-]{0,63} once lowercased), takes out the
// shared options --on, --timeout, --batch and --dry-run, and keeps every other word as a
// Token. `--` ends options. Errors are for the person who typed the command: an empty
// command, a bad name, a shared option repeated, missing or with a bad value, an option
// name that is not [a-z][a-z0-9-]*, and every tokenizer error.
Result<ParsedCommand> parse_command(std::string_view text);

}  // namespace hostline::chat
