#include "chat/irc/irc_message.hpp"

#include <algorithm>
#include <cctype>

namespace hostline::chat::irc {
namespace {

constexpr std::size_t kMaxMiddleParams = 14;

bool has_line_breaking_byte(std::string_view text) {
    return text.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos;
}

// Returns the next space-delimited word and advances `rest` past it and the spaces after.
std::string_view take_word(std::string_view& rest) {
    const auto end = std::min(rest.find(' '), rest.size());
    const auto word = rest.substr(0, end);
    rest.remove_prefix(end);
    const auto next = rest.find_first_not_of(' ');
    rest.remove_prefix(next == std::string_view::npos ? rest.size() : next);
    return word;
}

std::string unescape_tag_value(std::string_view escaped) {
    std::string value;
    value.reserve(escaped.size());
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] != '\\') {
            value += escaped[i];
            continue;
        }
        if (++i == escaped.size()) break;  // a lone trailing backslash is dropped
        switch (escaped[i]) {
            case ':':
                value += ';';
                break;
            case 's':
                value += ' ';
                break;
            case 'r':
                value += '\r';
                break;
            case 'n':
                value += '\n';
                break;
            default:
                value += escaped[i];
                break;  // covers "\\" and unknown escapes
        }
    }
    return value;
}

std::string escape_tag_value(std::string_view value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        switch (c) {
            case ';':
                escaped += "\\:";
                break;
            case ' ':
                escaped += "\\s";
                break;
            case '\\':
                escaped += "\\\\";
                break;
            case '\r':
                escaped += "\\r";
                break;
            case '\n':
                escaped += "\\n";
                break;
            default:
                escaped += c;
                break;
        }
    }
    return escaped;
}

void parse_tags(std::string_view text, std::map<std::string, std::string>& tags) {
    while (!text.empty()) {
        const auto end = std::min(text.find(';'), text.size());
        const auto tag = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        const auto equals = tag.find('=');
        const auto key = tag.substr(0, equals);
        if (key.empty()) continue;
        tags[std::string(key)] = equals == std::string_view::npos
                                     ? std::string()
                                     : unescape_tag_value(tag.substr(equals + 1));
    }
}

void split_prefix(Message& message) {
    const std::string_view prefix = message.prefix;
    const auto bang = prefix.find('!');
    const auto at = prefix.find('@');
    if (bang == std::string_view::npos && at == std::string_view::npos) {
        (prefix.find('.') == std::string_view::npos ? message.nick : message.host) = prefix;
        return;
    }
    message.nick = prefix.substr(0, std::min(bang, at));
    if (bang != std::string_view::npos && (at == std::string_view::npos || bang < at)) {
        message.user = prefix.substr(bang + 1, at == std::string_view::npos ? at : at - bang - 1);
    }
    if (at != std::string_view::npos) message.host = prefix.substr(at + 1);
}

bool is_command(std::string_view command) {
    return !command.empty() && std::all_of(command.begin(), command.end(),
                                           [](unsigned char c) { return std::isalnum(c) != 0; });
}

}  // namespace

Result<Message> parse_line(std::string_view line) {
    if (line.empty()) return fail("empty IRC line");
    if (line.size() > kMaxReceivedLineBytes) {
        return fail("IRC line of " + std::to_string(line.size()) + " bytes exceeds the " +
                    std::to_string(kMaxReceivedLineBytes) + "-byte limit");
    }
    if (has_line_breaking_byte(line)) return fail("IRC line contains NUL, CR or LF");

    Message message;
    std::string_view rest = line;
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));

    if (!rest.empty() && rest.front() == '@') {
        const auto tags = take_word(rest);
        if (tags.size() + 1 > kMaxTagBytes) {
            return fail("IRC message tags exceed " + std::to_string(kMaxTagBytes) + " bytes");
        }
        parse_tags(tags.substr(1), message.tags);
    }
    if (!rest.empty() && rest.front() == ':') {
        message.prefix = take_word(rest).substr(1);
        split_prefix(message);
    }
    const auto command = take_word(rest);
    if (command.empty()) return fail("IRC line has no command");
    message.command.reserve(command.size());
    for (const unsigned char c : command) {
        message.command += static_cast<char>(std::toupper(c));
    }
    while (!rest.empty()) {
        if (rest.front() == ':' || message.params.size() == kMaxMiddleParams) {
            if (rest.front() == ':') rest.remove_prefix(1);
            message.params.emplace_back(rest);
            break;
        }
        message.params.emplace_back(take_word(rest));
    }
    return message;
}

Result<std::string> format_line(std::string_view command,
                                const std::vector<std::string_view>& params,
                                const std::map<std::string, std::string>& tags) {
    if (!is_command(command)) {
        return fail("IRC command '" + std::string(command) + "' is not letters or digits");
    }
    std::string line;
    if (!tags.empty()) {
        line += '@';
        bool first = true;
        for (const auto& [key, value] : tags) {
            if (key.empty() || key.find_first_of(" ;=\\") != std::string::npos ||
                has_line_breaking_byte(key)) {
                return fail("IRC tag key '" + key + "' is empty or has a forbidden character");
            }
            if (value.find('\0') != std::string::npos) {
                return fail("IRC tag '" + key + "' has a NUL in its value");
            }
            if (!first) line += ';';
            first = false;
            line += key;
            if (!value.empty()) line += '=' + escape_tag_value(value);
        }
        if (line.size() > kMaxSentTagBytes) {
            return fail("IRC tags of " + std::to_string(line.size()) + " bytes exceed " +
                        std::to_string(kMaxSentTagBytes));
        }
        line += ' ';
    }
    const auto body_start = line.size();
    line += command;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto param = params[i];
        if (has_line_breaking_byte(param)) {
            return fail("IRC parameter " + std::to_string(i + 1) + " contains NUL, CR or LF");
        }
        const bool needs_colon =
            param.empty() || param.front() == ':' || param.find(' ') != std::string_view::npos;
        line += ' ';
        if (needs_colon) {
            if (i + 1 != params.size()) {
                return fail("IRC parameter " + std::to_string(i + 1) +
                            " is empty, has a space or starts with ':' but is not the last");
            }
            line += ':';
        }
        line += param;
    }
    if (line.size() - body_start > kMaxSentLineBytes) {
        return fail("IRC line of " + std::to_string(line.size() - body_start) + " bytes exceeds " +
                    std::to_string(kMaxSentLineBytes) + " (the server would drop or truncate it)");
    }
    return line;
}

}  // namespace hostline::chat::irc
