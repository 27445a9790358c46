#include "chat/irc/irc_text.hpp"

#include <algorithm>
#include <cctype>

namespace hostline::chat::irc {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

struct Utf8Step {
    std::size_t length;  // bytes consumed: the whole sequence, or its maximal invalid subpart
    bool valid;
};

// Reads the UTF-8 sequence starting at text[i] (Unicode Table 3-7 well-formed byte ranges).
Utf8Step step_utf8(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) return {1, true};
    std::size_t continuation_bytes = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        continuation_bytes = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        continuation_bytes = 2;
        if (lead == 0xE0) low = 0xA0;   // overlong
        if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        continuation_bytes = 3;
        if (lead == 0xF0) low = 0x90;   // overlong
        if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
        return {1, false};
    }
    for (std::size_t k = 1; k <= continuation_bytes; ++k) {
        if (i + k >= text.size()) return {k, false};
        const auto byte = static_cast<unsigned char>(text[i + k]);
        if (byte < low || byte > high) return {k, false};
        low = 0x80;
        high = 0xBF;
    }
    return {continuation_bytes + 1, true};
}

bool is_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::size_t count_digits(std::string_view text, std::size_t i, std::size_t max) {
    std::size_t n = 0;
    while (n < max && i + n < text.size() &&
           std::isdigit(static_cast<unsigned char>(text[i + n])) != 0) {
        ++n;
    }
    return n;
}

bool is_hex_colour(std::string_view text, std::size_t i) {
    if (i + 6 > text.size()) return false;
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i),
                       text.begin() + static_cast<std::ptrdiff_t>(i + 6),
                       [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Cuts one line (no line breaks in it) into payloads of at most `max` bytes.
void split_line(std::string_view line, std::size_t max, std::vector<std::string>& out) {
    while (line.size() > max) {
        const auto space = line.rfind(' ', max);
        if (space != std::string_view::npos && space > 0) {
            out.emplace_back(line.substr(0, space));
            line.remove_prefix(space + 1);
            continue;
        }
        std::size_t cut = max;
        for (int back = 0; back < 3 && cut > 0 && is_continuation(line[cut]); ++back) --cut;
        if (cut == 0 || is_continuation(line[cut])) cut = max;  // invalid UTF-8 or tiny max
        out.emplace_back(line.substr(0, cut));
        line.remove_prefix(cut);
    }
    if (!line.empty()) out.emplace_back(line);
}

}  // namespace

std::string strip_formatting(std::string_view text) {
    std::string plain;
    plain.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        switch (text[i]) {
            case '\x02':
            case '\x0F':
            case '\x11':
            case '\x16':
            case '\x1D':
            case '\x1E':
            case '\x1F':
                ++i;
                break;
            case '\x03': {
                ++i;
                const auto foreground = count_digits(text, i, 2);
                i += foreground;
                if (foreground > 0 && i + 1 < text.size() && text[i] == ',' &&
                    count_digits(text, i + 1, 2) > 0) {
                    i += 1 + count_digits(text, i + 1, 2);
                }
                break;
            }
            case '\x04':
                ++i;
                if (is_hex_colour(text, i)) {
                    i += 6;
                    if (i < text.size() && text[i] == ',' && is_hex_colour(text, i + 1)) i += 7;
                }
                break;
            default:
                plain += text[i++];
                break;
        }
    }
    return plain;
}

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto step = step_utf8(text, i);
        if (!step.valid) return false;
        i += step.length;
    }
    return true;
}

std::string sanitize_outgoing(std::string_view text) {
    std::string safe;
    safe.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == 0x1B && i + 1 < text.size() && text[i + 1] == '[') {
            // CSI: parameter and intermediate bytes 0x20-0x3F, then one final byte 0x40-0x7E.
            i += 2;
            while (i < text.size() && text[i] >= 0x20 && text[i] <= 0x3F) ++i;
            if (i < text.size() && text[i] >= 0x40 && text[i] <= 0x7E) ++i;
            continue;
        }
        if ((byte < 0x20 && byte != '\t' && byte != '\n') || byte == 0x7F) {
            ++i;
            continue;
        }
        const auto step = step_utf8(text, i);
        if (step.valid) {
            safe.append(text.substr(i, step.length));
        } else {
            safe.append(kReplacementCharacter);
        }
        i += step.length;
    }
    return safe;
}

std::vector<std::string> split_for_privmsg(std::string_view text, std::size_t max_payload) {
    std::vector<std::string> payloads;
    if (max_payload == 0) return payloads;
    while (!text.empty()) {
        const auto end = std::min(text.find_first_of("\r\n"), text.size());
        split_line(text.substr(0, end), max_payload, payloads);
        std::size_t next = end;
        if (next < text.size()) next += text.compare(next, 2, "\r\n") == 0 ? 2 : 1;
        text.remove_prefix(next);
    }
    return payloads;
}

std::size_t privmsg_payload_limit(std::string_view own_prefix, std::string_view target) {
    constexpr std::size_t kLineLimit = 512;
    // ":" prefix " PRIVMSG " target " :" payload "\r\n"
    const std::size_t overhead = 1 + own_prefix.size() + 9 + target.size() + 2 + 2;
    return overhead >= kLineLimit ? 0 : kLineLimit - overhead;
}

}  // namespace hostline::chat::irc
