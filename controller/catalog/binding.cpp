#include "controller/catalog/binding.hpp"

#include <algorithm>
#include <optional>

#include "controller/catalog/argv_template.hpp"
#include "controller/catalog/param_value.hpp"

namespace hostline::controller {

namespace {

// Option names accept '-' for '_': --max-depth sets max_depth.
std::string param_name_of(std::string_view option) {
    std::string name(option);
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

const ParamSpec* find_param(const CommandSpec& spec, std::string_view name) {
    for (const ParamSpec& param : spec.params)
        if (param.name == name) return &param;
    return nullptr;
}

Error unknown_option(const CommandSpec& spec, std::string_view option) {
    std::string message = "unknown option --" + std::string(option) + " for " + spec.name;
    const ParamSpec* nearest = nullptr;
    std::size_t best = 3;
    for (const ParamSpec& param : spec.params) {
        std::size_t distance = edit_distance(param_name_of(option), param.name);
        if (distance < best) best = distance, nearest = &param;
    }
    if (nearest) message += "; did you mean --" + nearest->name + "?";
    return fail(message);
}

// Params in the order positional words fill them: required first, then optional; no flags.
std::vector<const ParamSpec*> positional_order(const CommandSpec& spec) {
    std::vector<const ParamSpec*> order;
    for (bool required : {true, false})
        for (const ParamSpec& param : spec.params)
            if (param.type != ParamType::boolean && param.required == required)
                order.push_back(&param);
    return order;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

}  // namespace

Result<BoundCommand> bind(const CommandSpec& spec, const chat::ParsedCommand& parsed) {
    BoundCommand bound;
    bound.spec = &spec;
    std::map<std::string, std::string>& values = bound.values;

    auto set = [&](const ParamSpec& param, std::string_view text) -> Result<void> {
        if (values.count(param.name)) return fail("--" + param.name + " is given twice");
        auto checked = check_value(param, text);
        if (!checked) return fail("--" + param.name + " " + checked.error().message);
        values[param.name] = *checked;
        return {};
    };

    std::vector<std::string_view> words;
    const std::vector<chat::Token>& tokens = parsed.tokens;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const chat::Token& token = tokens[i];
        if (token.kind == chat::Token::Kind::word) {
            words.push_back(token.text);
            continue;
        }
        const ParamSpec* param = find_param(spec, param_name_of(token.text));
        if (param == nullptr) return unknown_option(spec, token.text);
        std::string_view value;
        if (token.inline_value) {
            value = *token.inline_value;
        } else if (param->type == ParamType::boolean) {
            value = "true";
        } else if (i + 1 < tokens.size() && tokens[i + 1].kind == chat::Token::Kind::word) {
            value = tokens[++i].text;
        } else {
            return fail("--" + param->name + " needs a value");
        }
        if (auto done = set(*param, value); !done) return done.error();
    }

    std::size_t next_word = 0;
    for (const ParamSpec* param : positional_order(spec)) {
        if (next_word == words.size()) break;
        if (values.count(param->name)) continue;
        if (auto done = set(*param, words[next_word++]); !done) return done.error();
    }
    if (next_word < words.size())
        return fail("too many arguments for " + spec.name + " at '" +
                    std::string(words[next_word]) + "'");

    for (const ParamSpec& param : spec.params) {
        if (values.count(param.name)) continue;
        if (param.default_value) {
            values[param.name] = *param.default_value;
        } else if (param.required) {
            return fail("missing --" + param.name +
                        (param.help.empty() ? std::string() : " (" + param.help + ")"));
        }
    }

    if (spec.is_script()) {
        bound.argv = {spec.interpreter, spec.script};
        for (const ParamSpec& param : spec.params) {
            auto it = values.find(param.name);
            bound.argv.push_back(it == values.end() ? std::string() : it->second);
        }
    } else {
        for (const std::string& element : spec.run) {
            // Checked at load; a failure here means the spec was not built by Catalog::load.
            auto parts = parse_template(element);
            if (!parts) std::abort();
            if (parts->size() == 1 && (*parts)[0].placeholder && !values.count((*parts)[0].text))
                continue;  // an optional value left out: leave out its element too
            std::string arg;
            for (const TemplatePart& part : *parts) {
                if (!part.placeholder) {
                    arg += part.text;
                } else if (auto it = values.find(part.text); it != values.end()) {
                    arg += it->second;
                }
            }
            bound.argv.push_back(std::move(arg));
        }
    }

    bound.target = parsed.target.value_or("");
    if (has_control_characters(bound.target))
        return fail("--on must not contain control characters");
    if (bound.target.empty()) bound.target = spec.default_target;
    if (bound.target.empty()) return fail("say where: --on TARGET");
    return bound;
}

std::string usage(const CommandSpec& spec, std::string_view prefix) {
    std::string line = std::string(prefix) + spec.name;
    for (const ParamSpec* param : positional_order(spec))
        line += param->required ? " " + upper(param->name) : " [" + upper(param->name) + "]";
    for (const ParamSpec& param : spec.params)
        if (param.type == ParamType::boolean) line += " [--" + param.name + "]";
    line += spec.default_target.empty() ? " --on TARGET" : " [--on TARGET]";
    return line;
}

std::string sample_arguments(const CommandSpec& spec) {
    if (!spec.example.empty()) return spec.example;
    std::string words;
    for (const ParamSpec* param : positional_order(spec)) {
        if (!param->required) continue;
        std::string value = upper(param->name);
        if (param->type == ParamType::enumeration) value = param->choices.front();
        if (param->type == ParamType::integer) value = std::to_string(param->min.value_or(1));
        if (param->type == ParamType::duration) value = "30s";
        words += (words.empty() ? "" : " ") + value;
    }
    return words;
}

}  // namespace hostline::controller
