// libFuzzer target: one chat message as anyone in a channel could type it, through the
// grammar (chat/grammar): addressed_text, tokenize and parse_command.
//
// Besides not crashing, the grammar must keep its promises for every input:
//   - addressed_text returns a suffix of the message;
//   - every word tokenize returns is valid UTF-8, and quoting the words again ("...") and
//     tokenizing that gives the same words back;
//   - a parsed command has a valid name, option names, a --timeout within kMaxDuration that
//     format_duration writes back exactly, and a --batch within its range.
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "chat/grammar/parser.hpp"
#include "chat/grammar/tokenizer.hpp"
#include "chat/irc/irc_text.hpp"
#include "common/duration.hpp"

namespace {

using namespace hostline;
using namespace hostline::chat;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "grammar broke its promise: %s\n", promise);
    std::abort();
}

void check_addressing(std::string_view message) {
    const Addressing ways[] = {
        {.prefix = "!", .bot_name = "hostline", .direct_message = false},
        {.prefix = "!", .bot_name = "hostline", .direct_message = true},
        {.prefix = "", .bot_name = "", .direct_message = true},
        {.prefix = "hl!", .bot_name = "", .direct_message = false},
    };
    for (const Addressing& a : ways) {
        const auto text = addressed_text(message, a);
        if (!text) continue;
        if (text->size() > message.size() ||
            text->data() != message.data() + (message.size() - text->size())) {
            broken("addressed_text returns a suffix of the message");
        }
    }
}

// The words quoted so the tokenizer reads each back as one word: "..." with \" and \\.
std::string requoted(const std::vector<std::string>& words) {
    std::string text;
    for (const std::string& word : words) {
        if (!text.empty()) text += ' ';
        text += '"';
        for (char c : word) {
            if (c == '"' || c == '\\') text += '\\';
            text += c;
        }
        text += '"';
    }
    return text;
}

void check_tokens(std::string_view message) {
    auto words = tokenize(message);
    if (!words) return;
    for (const std::string& word : *words) {
        if (!irc::is_valid_utf8(word)) broken("every word is valid UTF-8");
    }
    const std::string again = requoted(*words);
    if (again.size() > kMaxMessageBytes) return;
    auto reread = tokenize(again);
    if (!reread) {
        std::fprintf(stderr, "%s\n", reread.error().message.c_str());
        broken("quoted words tokenize");
    }
    if (*reread != *words) broken("quoted words tokenize to the same words");
}

bool is_name(std::string_view name, std::string_view allowed_after_first) {
    if (name.empty() || name.front() < 'a' || name.front() > 'z') return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        allowed_after_first.find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

void check_command(std::string_view message) {
    auto command = parse_command(message);
    if (!command) {
        if (command.error().message.empty()) broken("an error says what was wrong");
        return;
    }
    if (!is_name(command->name, "_-") || command->name.size() > 64) {
        broken("the command name is [a-z][a-z0-9_-]{0,63}");
    }
    for (const Token& token : command->tokens) {
        if (token.kind == Token::Kind::option && !is_name(token.text, "-")) {
            broken("an option name is [a-z][a-z0-9-]*");
        }
        if (token.kind == Token::Kind::option && token.after_double_dash) {
            broken("nothing after -- is an option");
        }
    }
    if (command->target && command->target->empty()) broken("--on is never empty");
    if (command->timeout) {
        const auto timeout = *command->timeout;
        if (timeout.count() < 0 || timeout > kMaxDuration) broken("--timeout is within range");
        auto back = parse_duration(format_duration(timeout));
        if (!back || *back != timeout) broken("format_duration writes what parse_duration read");
    }
    if (command->batch) {
        const Batch batch = *command->batch;
        if (batch.size == 0 || (batch.percent && batch.size > 100)) {
            broken("--batch is 1 or more, and at most 100%");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view message(reinterpret_cast<const char*>(data), size);
    check_addressing(message);
    check_tokens(message);
    check_command(message);
    return 0;
}
