#include "chat/grammar/parser.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "chat/grammar/tokenizer.hpp"
#include "common/duration.hpp"

namespace hostline::chat {
namespace {

// How much of a word an error quotes back into the channel.
constexpr std::size_t kMaxQuoted = 40;
constexpr std::size_t kMaxCommandName = 64;

bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view skip_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    return s;
}

bool skip_prefix(std::string_view& s, std::string_view prefix) {
    if (prefix.empty() || !s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view start) {
    if (s.size() < start.size()) return false;
    for (std::size_t i = 0; i < start.size(); ++i) {
        if (ascii_lower(s[i]) != ascii_lower(start[i])) return false;
    }
    return true;
}

// What follows a mention of name at the start of s: "name:", "name," or "@name" followed by a
// blank or the end. Anything else ("hostline is down", "@hostliners") is not a mention.
std::optional<std::string_view> after_mention(std::string_view s, std::string_view name) {
    if (name.empty()) return std::nullopt;
    const bool at = skip_prefix(s, "@");
    if (!starts_with_ignoring_case(s, name)) return std::nullopt;
    s.remove_prefix(name.size());
    if (!s.empty() && (s.front() == ':' || s.front() == ',')) return s.substr(1);
    if (at && (s.empty() || s.front() == ' ' || s.front() == '\t')) return s;
    return std::nullopt;
}

// word in single quotes for an error message, cut (at a character boundary) if long.
std::string quoted(std::string_view word) {
    if (word.size() <= kMaxQuoted) return "'" + std::string(word) + "'";
    std::size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) --cut;
    return "'" + std::string(word.substr(0, cut)) + "...'";
}

bool is_command_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxCommandName || !is_lower(name.front())) return false;
    for (char c : name) {
        if (!is_lower(c) && !is_digit(c) && c != '_' && c != '-') return false;
    }
    return true;
}

bool is_option_name(std::string_view name) {
    if (name.empty() || !is_lower(name.front())) return false;
    for (char c : name) {
        if (!is_lower(c) && !is_digit(c) && c != '-') return false;
    }
    return true;
}

// The value of a shared option that takes one: the inline --name=value, else the next word
// unless that is itself an option (`--on --dry-run` is a forgotten target, not a target).
std::optional<std::string> take_value(const std::optional<std::string>& inline_value,
                                      const std::vector<std::string>& words, std::size_t& i) {
    if (inline_value) {
        if (inline_value->empty()) return std::nullopt;
        return inline_value;
    }
    if (i + 1 >= words.size() || words[i + 1].empty() || words[i + 1].starts_with("--")) {
        return std::nullopt;
    }
    return words[++i];
}

}  // namespace

std::optional<std::string_view> addressed_text(std::string_view message, const Addressing& a) {
    std::string_view s = skip_blanks(message);
    if (skip_prefix(s, a.prefix)) return s;
    if (auto rest = after_mention(s, a.bot_name)) {
        std::string_view text = skip_blanks(*rest);
        skip_prefix(text, a.prefix);
        return text;
    }
    if (a.direct_message) {
        skip_prefix(s, a.prefix);
        return s;
    }
    return std::nullopt;
}

Result<ParsedCommand> parse_command(std::string_view text) {
    auto tokenized = tokenize(text);
    if (!tokenized) return tokenized.error();
    const std::vector<std::string>& words = *tokenized;
    if (words.empty()) return fail("empty command: try !help");

    ParsedCommand command;
    for (char c : words.front()) command.name += ascii_lower(c);
    if (!is_command_name(command.name)) {
        return fail(quoted(words.front()) + " is not a command name");
    }

    bool after_double_dash = false;
    for (std::size_t i = 1; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (after_double_dash) {
            command.tokens.push_back(Token{Token::Kind::word, word, std::nullopt, true});
            continue;
        }
        if (word == "--") {
            after_double_dash = true;
            continue;
        }
        if (word.size() <= 2 || !word.starts_with("--")) {
            command.tokens.push_back(Token{Token::Kind::word, word, std::nullopt, false});
            continue;
        }

        const std::string_view body = std::string_view(word).substr(2);
        const std::size_t equals = body.find('=');
        const std::string name(body.substr(0, equals));
        std::optional<std::string> inline_value;
        if (equals != std::string_view::npos) inline_value = std::string(body.substr(equals + 1));
        auto twice = [&] { return fail("--" + name + " is given twice; give it once"); };

        if (name == "dry-run") {
            if (command.dry_run) return twice();
            if (inline_value) return fail("--dry-run takes no value");
            command.dry_run = true;
        } else if (name == "fail-fast") {
            if (command.fail_fast) return twice();
            if (inline_value) return fail("--fail-fast takes no value");
            command.fail_fast = true;
        } else if (name == "on") {
            if (command.target) return twice();
            auto value = take_value(inline_value, words, i);
            if (!value) return fail("--on needs a target, e.g. --on web-01");
            command.target = std::move(*value);
        } else if (name == "timeout") {
            if (command.timeout) return twice();
            auto value = take_value(inline_value, words, i);
            if (!value) return fail("--timeout needs a duration, e.g. --timeout 30s");
            auto timeout = parse_duration(*value);
            if (!timeout) return timeout.error();
            command.timeout = *timeout;
        } else if (name == "batch") {
            if (command.batch) return twice();
            auto value = take_value(inline_value, words, i);
            if (!value) return fail("--batch needs a size, e.g. --batch 2 or --batch 25%");
            auto batch = parse_batch_size(*value);
            if (!batch) return batch.error();
            command.batch = *batch;
        } else if (name == "batch-wait") {
            if (command.batch_wait) return twice();
            auto value = take_value(inline_value, words, i);
            if (!value) return fail("--batch-wait needs a duration, e.g. --batch-wait 30s");
            auto wait = parse_duration(*value);
            if (!wait) return wait.error();
            command.batch_wait = *wait;
        } else if (is_option_name(name)) {
            command.tokens.push_back(
                Token{Token::Kind::option, name, std::move(inline_value), false});
        } else {
            return fail(quoted(name.empty() ? word : "--" + name) +
                        " is not an option name: use lowercase letters, digits and '-' "
                        "(to pass it as a word, put it after --)");
        }
    }
    return command;
}

}  // namespace hostline::chat
