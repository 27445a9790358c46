#include "controller/catalog/argv_template.hpp"

namespace hostline::controller {

namespace {

bool is_param_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

Result<std::vector<TemplatePart>> parse_template(std::string_view element) {
    std::vector<TemplatePart> parts;
    std::string literal;
    for (std::size_t i = 0; i < element.size(); ++i) {
        char c = element[i];
        if ((c == '{' || c == '}') && i + 1 < element.size() && element[i + 1] == c) {
            literal += c;
            ++i;
            continue;
        }
        if (c == '}') return fail("unmatched '}' (write '}}' for a literal brace)");
        if (c != '{') {
            literal += c;
            continue;
        }
        std::size_t close = element.find('}', i + 1);
        if (close == std::string_view::npos)
            return fail("unclosed '{' (write '{{' for a literal brace)");
        std::string_view name = element.substr(i + 1, close - i - 1);
        if (!is_param_name(name)) return fail("'{" + std::string(name) + "}' is not a param name");
        if (!literal.empty()) parts.push_back({false, std::move(literal)});
        literal.clear();
        parts.push_back({true, std::string(name)});
        i = close;
    }
    if (!literal.empty()) parts.push_back({false, std::move(literal)});
    return parts;
}

}  // namespace hostline::controller
