// A chat command as the grammar reads it, before the catalog gives it meaning.
//
//   !deploy web --force --on 'role=web&env=prod' --timeout 5m --batch 25% -- extra args
//
// The grammar knows the options every command shares (--on, --timeout, --batch, --batch-wait,
// --fail-fast, --dry-run) and takes them out; everything else stays as tokens, because only the
// catalog knows whether `--force` is a flag or takes a value (catalog binding resolves them).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/batch_size.hpp"

namespace hostline::chat {

struct Token {
    enum class Kind {
        word,    // a positional word (quotes and escapes already removed)
        option,  // --name or --name=value: `text` is the name, without the dashes
    };
    Kind kind = Kind::word;
    std::string text;
    std::optional<std::string> inline_value;  // the value of --name=value
    bool after_double_dash = false;           // words after `--` are never options
};

using Batch = BatchSize;  // --batch 2 | --batch 25% (common/batch_size.hpp)

struct ParsedCommand {
    std::string name;                   // the command: "help", "run", "disk-usage", ... (lowercase)
    std::vector<Token> tokens;          // everything after the name but the shared options
    std::optional<std::string> target;  // --on TARGET
    std::optional<std::chrono::milliseconds> timeout;     // --timeout 30s
    std::optional<Batch> batch;                           // --batch 2 | --batch 25%
    std::optional<std::chrono::milliseconds> batch_wait;  // --batch-wait 30s
    bool fail_fast = false;                               // --fail-fast
    bool dry_run = false;                                 // --dry-run
};

// How a message reached the bot: a message is a command when it starts with the prefix,
// starts with a mention of the bot, or is a direct message.
struct Addressing {
    std::string prefix = "!";
    std::string bot_name;  // e.g. "hostline": "hostline: help" and "@hostline help"
    bool direct_message = false;
};

}  // namespace hostline::chat
