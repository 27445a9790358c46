#include "chat/grammar/tokenizer.hpp"

#include <cstdint>
#include <cstdio>

namespace hostline::chat {
namespace {

// One decoded character and where its bytes are in the message.
struct Char {
    char32_t code;
    std::size_t offset;
    std::size_t length;
};

constexpr char32_t kLeftSingleQuote = U'\u2018';   // ‘ opens like '
constexpr char32_t kRightSingleQuote = U'\u2019';  // ’ closes it
constexpr char32_t kLeftDoubleQuote = U'\u201C';   // “ opens like "
constexpr char32_t kRightDoubleQuote = U'\u201D';  // ” closes it

bool is_continuation(unsigned char b) {
    return (b & 0xC0) == 0x80;
}

// The characters of text, or the 1-based byte position of the first invalid sequence
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
Result<std::vector<Char>> decode(std::string_view text) {
    std::vector<Char> chars;
    chars.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b0 = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        char32_t code = 0;
        unsigned char low = 0x80;  // the range the second byte must be in
        unsigned char high = 0xBF;
        if (b0 < 0x80) {
            length = 1;
            code = b0;
        } else if (b0 >= 0xC2 && b0 <= 0xDF) {
            length = 2;
            code = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            length = 3;
            code = b0 & 0x0F;
            if (b0 == 0xE0) low = 0xA0;   // overlong
            if (b0 == 0xED) high = 0x9F;  // surrogates
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            length = 4;
            code = b0 & 0x07;
            if (b0 == 0xF0) low = 0x90;   // overlong
            if (b0 == 0xF4) high = 0x8F;  // past U+10FFFF
        }
        bool valid = length != 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            const auto b = static_cast<unsigned char>(text[i + k]);
            valid = k == 1 ? (b >= low && b <= high) : is_continuation(b);
            code = (code << 6) | (b & 0x3F);
        }
        if (!valid) return fail("invalid UTF-8 at byte " + std::to_string(i + 1));
        chars.push_back(Char{code, i, length});
        i += length;
    }
    return chars;
}

// C0 but tab, DEL and C1: the Unicode "Cc" characters a person cannot see in chat.
bool is_refused_control(char32_t c) {
    return (c < 0x20 && c != U'\t') || (c >= 0x7F && c <= 0x9F);
}

// ASCII space and tab, and the Unicode space separators (Zs): Teams and some clients send
// no-break spaces where a person typed a space.
bool is_space(char32_t c) {
    return c == U' ' || c == U'\t' || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string code_point_name(char32_t c) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(c));
    return buffer;
}

enum class Quote { none, single, double_ };

}  // namespace

Result<std::vector<std::string>> tokenize(std::string_view text) {
    if (text.size() > kMaxMessageBytes) {
        return fail("message is " + std::to_string(text.size()) + " bytes; the limit is " +
                    std::to_string(kMaxMessageBytes));
    }
    auto decoded = decode(text);
    if (!decoded) return decoded.error();
    const std::vector<Char>& chars = *decoded;
    for (std::size_t i = 0; i < chars.size(); ++i) {
        if (is_refused_control(chars[i].code)) {
            return fail("control character " + code_point_name(chars[i].code) + " at column " +
                        std::to_string(i + 1) + " is not allowed");
        }
    }

    auto bytes_of = [&](std::size_t i) { return text.substr(chars[i].offset, chars[i].length); };

    std::vector<std::string> words;
    std::string word;
    bool in_word = false;  // distinguishes an empty quoted word from no word
    Quote quote = Quote::none;
    char32_t closing = 0;  // the character that ends the open quote
    std::size_t quote_index = 0;

    for (std::size_t i = 0; i < chars.size(); ++i) {
        const char32_t c = chars[i].code;
        switch (quote) {
            case Quote::none:
                if (is_space(c)) {
                    if (in_word) words.push_back(std::move(word));
                    word.clear();
                    in_word = false;
                    break;
                }
                in_word = true;
                if (c == U'\\') {
                    if (i + 1 == chars.size()) {
                        return fail("trailing backslash at column " + std::to_string(i + 1) +
                                    " escapes nothing");
                    }
                    word += bytes_of(++i);
                } else if (c == U'\'' || c == kLeftSingleQuote) {
                    quote = Quote::single;
                    closing = c == U'\'' ? U'\'' : kRightSingleQuote;
                    quote_index = i;
                } else if (c == U'"' || c == kLeftDoubleQuote) {
                    quote = Quote::double_;
                    closing = c == U'"' ? U'"' : kRightDoubleQuote;
                    quote_index = i;
                } else {
                    word += bytes_of(i);
                }
                break;
            case Quote::single:
                if (c == closing) {
                    quote = Quote::none;
                } else {
                    word += bytes_of(i);
                }
                break;
            case Quote::double_:
                if (c == U'\\' && i + 1 < chars.size() &&
                    (chars[i + 1].code == closing || chars[i + 1].code == U'\\')) {
                    word += bytes_of(++i);
                } else if (c == closing) {
                    quote = Quote::none;
                } else {
                    word += bytes_of(i);
                }
                break;
        }
    }
    if (quote != Quote::none) {
        return fail("unclosed " + std::string(bytes_of(quote_index)) +
                    " quote starting at column " + std::to_string(quote_index + 1));
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

}  // namespace hostline::chat
