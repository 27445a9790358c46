#include "chat/slack/json_input.hpp"

#include <exception>

namespace hostline::chat::slack {
namespace {

// Counts bracket nesting outside strings, so a too-deep document is refused before the parser
// (recursive in places) sees it. Strings are skipped with their escapes; malformed input is
// left for the parser to report.
bool nesting_within(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

std::string field_error(const char* key, const char* expected) {
    return std::string("\"") + key + "\" must be " + expected;
}

}  // namespace

Result<nlohmann::json> parse_json(std::string_view text, std::string_view what) {
    if (text.size() > kMaxJsonBytes) {
        return fail(std::string(what) + " too large: " + std::to_string(text.size()) +
                    " bytes, at most " + std::to_string(kMaxJsonBytes));
    }
    if (!nesting_within(text, kMaxJsonDepth)) {
        return fail(std::string(what) + " nested more than " + std::to_string(kMaxJsonDepth) +
                    " levels deep");
    }
    // parse() with allow_exceptions=false returns a discarded value on a syntax error; the
    // try catches what that switch does not cover (invalid UTF-8 is reported when dumped, and
    // allocation failures).
    try {
        auto value = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
        if (value.is_discarded()) return fail(std::string(what) + " is not valid JSON");
        return value;
    } catch (const std::exception&) {
        return fail(std::string(what) + " is not valid JSON");
    }
}

Result<std::string> required_string(const nlohmann::json& o, const char* key,
                                    std::size_t max_bytes) {
    auto value = optional_string(o, key, max_bytes);
    if (!value) return value.error();
    if (!value->has_value()) return fail(field_error(key, "present"));
    return std::move(**value);
}

Result<std::optional<std::string>> optional_string(const nlohmann::json& o, const char* key,
                                                   std::size_t max_bytes) {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string()) return fail(field_error(key, "a string"));
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_bytes) {
        return fail(field_error(key, "at most ") + std::to_string(max_bytes) + " bytes long");
    }
    return std::optional<std::string>(s);
}

Result<std::optional<bool>> optional_bool(const nlohmann::json& o, const char* key) {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::optional<bool>();
    if (!it->is_boolean()) return fail(field_error(key, "true or false"));
    return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::int64_t>> optional_count(const nlohmann::json& o, const char* key) {
    const auto it = o.find(key);
    if (it == o.end() || it->is_null()) return std::optional<std::int64_t>();
    if (it->is_number_unsigned()) {
        const auto n = it->get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(INT64_MAX)) return fail(field_error(key, "smaller"));
        return std::optional<std::int64_t>(static_cast<std::int64_t>(n));
    }
    if (it->is_number_integer()) return fail(field_error(key, "zero or more"));
    return fail(field_error(key, "a whole number"));
}

Result<const nlohmann::json*> required_object(const nlohmann::json& o, const char* key) {
    const auto it = o.find(key);
    if (it == o.end()) return fail(field_error(key, "present"));
    if (!it->is_object()) return fail(field_error(key, "an object"));
    return &*it;
}

}  // namespace hostline::chat::slack
