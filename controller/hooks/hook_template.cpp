#include "controller/hooks/hook_template.hpp"

#include <charconv>
#include <optional>
#include <vector>

namespace hostline::controller {

namespace {

// One {{...}} or the literal text before it.
struct Piece {
    bool path = false;
    std::string_view text;
};

Result<std::vector<Piece>> split(std::string_view text) {
    std::vector<Piece> pieces;
    while (!text.empty()) {
        const auto open = text.find("{{");
        const auto stray = text.find("}}");
        if (stray < open) return fail("'}}' without '{{' in the template");
        if (open == std::string_view::npos) {
            pieces.push_back({false, text});
            break;
        }
        if (open > 0) pieces.push_back({false, text.substr(0, open)});
        const auto close = text.find("}}", open + 2);
        if (close == std::string_view::npos) return fail("'{{' without '}}' in the template");
        std::string_view path = text.substr(open + 2, close - open - 2);
        while (!path.empty() && path.front() == ' ') path.remove_prefix(1);
        while (!path.empty() && path.back() == ' ') path.remove_suffix(1);
        if (path.empty()) return fail("an empty {{}} in the template");
        if (path.find_first_of("{} ") != std::string_view::npos || path.front() == '.' ||
            path.back() == '.' || path.find("..") != std::string_view::npos)
            return fail("'{{" + std::string(path) +
                        "}}' is not a path such as {{repository.name}}");
        pieces.push_back({true, path});
        text.remove_prefix(close + 2);
    }
    return pieces;
}

std::optional<std::size_t> index_of(std::string_view segment) {
    std::size_t index = 0;
    const auto* end = segment.data() + segment.size();
    auto [ptr, ec] = std::from_chars(segment.data(), end, index);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return index;
}

std::size_t utf8_length(const std::string& text) {
    std::size_t n = 0;
    for (unsigned char c : text) n += (c & 0xC0) != 0x80;
    return n;
}

Result<std::string> lookup(std::string_view path, const nlohmann::json& body) {
    const nlohmann::json* at = &body;
    const std::string shown = "{{" + std::string(path) + "}}";
    while (!path.empty()) {
        const auto dot = std::min(path.find('.'), path.size());
        const std::string_view segment = path.substr(0, dot);
        const bool last = dot == path.size();
        path.remove_prefix(std::min(dot + 1, path.size()));
        if (at->is_object()) {
            auto it = at->find(std::string(segment));
            if (it != at->end()) {
                at = &*it;
                continue;
            }
        } else if (at->is_array()) {
            if (auto index = index_of(segment); index && *index < at->size()) {
                at = &(*at)[*index];
                continue;
            }
        }
        if (last && segment == "length" && (at->is_array() || at->is_string()))
            return std::to_string(at->is_array() ? at->size()
                                                 : utf8_length(at->get_ref<const std::string&>()));
        return fail(shown + ": the body has no '" + std::string(segment) + "' there");
    }
    if (at->is_string()) return at->get<std::string>();
    if (at->is_null()) return std::string();
    if (at->is_boolean() || at->is_number()) return at->dump();
    return fail(shown + " is an " + (at->is_object() ? "object" : "array") +
                ", not a value; name one of its members");
}

}  // namespace

Result<void> check_hook_template(std::string_view text) {
    auto pieces = split(text);
    if (!pieces) return pieces.error();
    return {};
}

Result<std::string> render_hook_template(std::string_view text, const nlohmann::json& body,
                                         std::size_t max_chars) {
    auto pieces = split(text);
    if (!pieces) return pieces.error();
    std::string out;
    for (const Piece& piece : *pieces) {
        if (!piece.path) {
            out += piece.text;
            continue;
        }
        auto value = lookup(piece.text, body);
        if (!value) return value.error();
        out += *value;
    }
    // A chat line is one line: no newline, escape or other control character from a body.
    std::string clean;
    clean.reserve(out.size());
    for (unsigned char c : out)
        if (c >= 0x20 && c != 0x7F) clean += static_cast<char>(c);
    if (clean.size() > max_chars) {
        std::size_t cut = max_chars;
        while (cut > 0 && (static_cast<unsigned char>(clean[cut]) & 0xC0) == 0x80) --cut;
        clean.resize(cut);
    }
    return clean;
}

}  // namespace hostline::controller
