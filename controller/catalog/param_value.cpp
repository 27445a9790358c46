#include "controller/catalog/param_value.hpp"

#include <charconv>
#include <cstdint>

#include "common/duration.hpp"

namespace hostline::controller {

Result<std::regex> compile_pattern(const std::string& pattern) {
    try {
        return std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        return fail(std::string("invalid regex: ") + e.what());
    }
}

bool has_control_characters(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) return true;
        // U+0080..U+009F are C2 80..C2 9F in UTF-8.
        if (c == 0xc2 && i + 1 < text.size()) {
            auto next = static_cast<unsigned char>(text[i + 1]);
            if (next >= 0x80 && next <= 0x9f) return true;
        }
    }
    return false;
}

namespace {

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

bool matches_whole(const std::regex& regex, std::string_view text) {
    try {
        return std::regex_match(text.begin(), text.end(), regex);
    } catch (const std::regex_error&) {
        return false;  // too complex to decide: refuse rather than guess
    }
}

}  // namespace

Result<std::string> check_value(const ParamSpec& param, std::string_view text) {
    if (has_control_characters(text)) return fail("must not contain control characters");
    if (text.size() > kMaxValueBytes)
        return fail("is too long (at most " + std::to_string(kMaxValueBytes) + " bytes)");
    switch (param.type) {
        case ParamType::string:
            if (param.regex && !matches_whole(*param.regex, text))
                return fail("must match " + param.pattern + ", not " + quoted(text));
            return std::string(text);
        case ParamType::integer: {
            std::int64_t value = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (text.empty() || ec != std::errc() || end != text.data() + text.size())
                return fail("must be an integer, not " + quoted(text));
            if ((param.min && value < *param.min) || (param.max && value > *param.max)) {
                std::string range = param.min && param.max
                                        ? "between " + std::to_string(*param.min) + " and " +
                                              std::to_string(*param.max)
                                    : param.min ? "at least " + std::to_string(*param.min)
                                                : "at most " + std::to_string(*param.max);
                return fail("must be " + range + ", not " + std::to_string(value));
            }
            return std::to_string(value);
        }
        case ParamType::boolean:
            if (text == "true" || text == "false") return std::string(text);
            return fail("must be true or false, not " + quoted(text));
        case ParamType::enumeration:
            for (const std::string& choice : param.choices)
                if (choice == text) return std::string(text);
            return fail("must be one of " + joined(param.choices) + ", not " + quoted(text));
        case ParamType::duration:
            if (!parse_duration(text))
                return fail("must be a duration such as 30s or 5m, not " + quoted(text));
            return std::string(text);
    }
    return fail("has an unknown type");
}

}  // namespace hostline::controller
