#include "chat/slack/mrkdwn.hpp"

namespace hostline::chat::slack {
namespace {

constexpr std::string_view kFence = "```";
constexpr std::string_view kZeroWidthSpace = "\xE2\x80\x8B";
// "&amp;" is the longest entity Slack uses; a '&' followed by more than this without a ';' was
// not an entity (escape() never leaves a bare '&', but cut_to_fit takes any text).
constexpr std::size_t kLongestEntity = 5;

bool is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

// The byte length of the UTF-8 character at text[i]; 1 for a byte that does not start a
// well-formed sequence, so malformed input is still walked one byte at a time.
std::size_t char_bytes(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
    }
    if (i + n > text.size()) return 1;
    for (std::size_t k = 1; k < n; ++k) {
        if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return 1;
    }
    return n;
}

// UTF-16 code units: a 4-byte character is a surrogate pair.
std::size_t char_units(std::size_t bytes) {
    return bytes == 4 ? 2 : 1;
}

std::string decode_entities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::string_view rest = text.substr(i);
        if (rest.starts_with("&amp;")) {
            out += '&';
            i += 4;
        } else if (rest.starts_with("&lt;")) {
            out += '<';
            i += 3;
        } else if (rest.starts_with("&gt;")) {
            out += '>';
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

// The readable text of one <…> token's content (without the brackets).
std::string readable_token(std::string_view token) {
    const auto bar = token.find('|');
    const std::string_view target = token.substr(0, bar);
    const std::string_view label = bar == std::string_view::npos ? "" : token.substr(bar + 1);
    if (target.starts_with("@")) return "@" + std::string(label.empty() ? target.substr(1) : label);
    if (target.starts_with("#")) return "#" + std::string(label.empty() ? target.substr(1) : label);
    if (target.starts_with("!")) {
        if (!label.empty()) return std::string(label);
        const auto caret = target.find('^');
        return "@" + std::string(target.substr(
                         1, caret == std::string_view::npos ? target.npos : caret - 1));
    }
    if (!label.empty()) return std::string(label);
    if (target.starts_with("mailto:")) return std::string(target.substr(7));
    return std::string(target);
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string cut_note(const JobLink& link) {
    const std::string job = "job #" + std::to_string(link.job_id);
    if (link.url.empty()) return "… (cut; full output: " + job + ")";
    // Inside <URL|label> a '|' or '>' would end the URL early.
    std::string url;
    for (const char c : escape(link.url)) {
        if (c == '|') {
            url += "%7C";
        } else {
            url += c;
        }
    }
    return "… (cut; full output: <" + url + "|" + job + ">)";
}

std::size_t slack_length(std::string_view text) {
    std::size_t units = 0;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = char_bytes(text, i);
        units += char_units(n);
        i += n;
    }
    return units;
}

std::string cut_to_fit(std::string_view text, std::size_t max_length, const JobLink& link) {
    if (slack_length(text) <= max_length) return std::string(text);
    const std::string note = cut_note(link);
    // Room for the closing fence is kept whether or not it is needed: simpler than a second
    // pass, and four characters.
    const std::size_t reserve = slack_length(note) + 1 + kFence.size() + 1;
    if (max_length <= reserve) return note;
    const std::size_t budget = max_length - reserve;

    std::size_t units = 0;
    std::size_t last_safe = 0;  // the longest prefix that splits no character, entity or link
    std::size_t last_line_end = std::string_view::npos;  // a safe cut just before a '\n'
    bool in_entity = false;
    std::size_t entity_length = 0;
    bool in_link = false;
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t n = char_bytes(text, i);
        if (units + char_units(n) > budget) break;
        const char c = text[i];
        if (c == '\n' && last_safe == i) last_line_end = i;
        units += char_units(n);
        i += n;
        if (in_entity) {
            in_entity = c != ';' && ++entity_length < kLongestEntity;
        } else if (c == '&') {
            in_entity = true;
            entity_length = 1;
        }
        if (c == '<') in_link = true;
        if (c == '>') in_link = false;
        if (!in_entity && !in_link) last_safe = i;
    }
    const bool line_end_is_close =
        last_line_end != std::string_view::npos && last_line_end >= last_safe / 2;
    std::string kept(text.substr(0, line_end_is_close ? last_line_end : last_safe));

    std::size_t fences = 0;
    for (auto at = kept.find(kFence); at != std::string::npos; at = kept.find(kFence, at + 3)) {
        ++fences;
    }
    if (fences % 2 == 1) {
        kept += '\n';
        kept += kFence;
    }
    kept += '\n';
    kept += note;
    return kept;
}

std::string code_block(std::string_view output, std::size_t max_length, const JobLink& link) {
    if (output.ends_with('\n')) output.remove_suffix(1);
    std::string block(kFence);
    block += '\n';
    std::size_t backticks = 0;
    for (std::size_t i = 0; i < output.size(); ++i) {
        const char c = output[i];
        if (c != '`') {
            backticks = 0;
            block += escape(std::string_view(&c, 1));
            continue;
        }
        block += c;
        if (++backticks == 2 && i + 1 < output.size() && output[i + 1] == '`') {
            block += kZeroWidthSpace;
            backticks = 0;
        }
    }
    block += '\n';
    block += kFence;
    return cut_to_fit(block, max_length, link);
}

std::string to_plain_text(std::string_view slack_text) {
    std::string out;
    out.reserve(slack_text.size());
    std::size_t i = 0;
    while (i < slack_text.size()) {
        const auto open = slack_text.find('<', i);
        const auto close = open == std::string_view::npos ? open : slack_text.find('>', open);
        if (close == std::string_view::npos) {
            out += decode_entities(slack_text.substr(i));
            break;
        }
        out += decode_entities(slack_text.substr(i, open - i));
        out += decode_entities(readable_token(slack_text.substr(open + 1, close - open - 1)));
        i = close + 1;
    }
    return out;
}

}  // namespace hostline::chat::slack
