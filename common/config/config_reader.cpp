// The one file that calls toml++'s parser; its exceptions stop here.
#include "common/config/config_reader.hpp"

#include "common/duration.hpp"

namespace hostline::config {

Result<toml::table> read_toml_file(const std::string& path) {
    try {
        return toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        std::string message(e.description());
        if (message.find("unable to open") != std::string::npos ||
            message.find("File could not be opened") != std::string::npos)
            return fail(path + ": cannot read the file");
        return fail(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                    ": " + message);
    } catch (const std::exception& e) {
        return fail(path + ": " + e.what());
    }
}

ConfigReader::ConfigReader(std::string file, const toml::table& table)
    : file_(std::move(file)), table_(table) {}

bool ConfigReader::has(std::string_view key) const {
    return static_cast<bool>(table_.at_path(key));
}

std::string ConfigReader::string(std::string_view key, std::string fallback) {
    auto node = table_.at_path(key);
    if (!node) return fallback;
    if (auto v = node.value_exact<std::string>()) return *v;
    problem(key, "must be a string");
    return fallback;
}

std::int64_t ConfigReader::integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) {
    auto node = table_.at_path(key);
    if (!node) return fallback;
    auto v = node.value_exact<std::int64_t>();
    if (!v) {
        problem(key, "must be an integer");
        return fallback;
    }
    if (*v < min || *v > max) {
        problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", not " + std::to_string(*v));
        return fallback;
    }
    return *v;
}

double ConfigReader::number(std::string_view key, double fallback, double min, double max) {
    auto node = table_.at_path(key);
    if (!node) return fallback;
    std::optional<double> v = node.value<double>();
    if (!v || !(node.is_integer() || node.is_floating_point())) {
        problem(key, "must be a number");
        return fallback;
    }
    if (*v < min || *v > max) {
        problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        return fallback;
    }
    return *v;
}

bool ConfigReader::boolean(std::string_view key, bool fallback) {
    auto node = table_.at_path(key);
    if (!node) return fallback;
    if (auto v = node.value_exact<bool>()) return *v;
    problem(key, "must be true or false");
    return fallback;
}

std::int64_t ConfigReader::duration_ms(std::string_view key, std::int64_t fallback_ms) {
    auto node = table_.at_path(key);
    if (!node) return fallback_ms;
    auto text = node.value_exact<std::string>();
    if (!text) {
        problem(key, "must be a duration string such as \"30s\" or \"5m\"");
        return fallback_ms;
    }
    auto parsed = parse_duration(*text);
    if (!parsed) {
        problem(key, parsed.error().message);
        return fallback_ms;
    }
    return parsed->count();
}

std::vector<std::string> ConfigReader::string_list(std::string_view key) {
    std::vector<std::string> out;
    auto node = table_.at_path(key);
    if (!node) return out;
    const toml::array* array = node.as_array();
    if (array == nullptr) {
        problem(key, "must be an array of strings, e.g. [\"a\", \"b\"]");
        return out;
    }
    for (const auto& item : *array) {
        if (auto s = item.value_exact<std::string>())
            out.push_back(*s);
        else
            problem(key, "must hold only strings");
    }
    return out;
}

std::map<std::string, std::string> ConfigReader::string_map(std::string_view key) {
    std::map<std::string, std::string> out;
    auto node = table_.at_path(key);
    if (!node) return out;
    const toml::table* t = node.as_table();
    if (t == nullptr) {
        problem(key, "must be a table of strings");
        return out;
    }
    for (const auto& [k, v] : *t) {
        if (auto s = v.value_exact<std::string>())
            out.emplace(std::string(k.str()), *s);
        else
            problem(std::string(key) + "." + std::string(k.str()), "must be a string");
    }
    return out;
}

void ConfigReader::check(bool ok, std::string_view key, std::string_view reason) {
    if (!ok) problem(key, reason);
}

void ConfigReader::reject_unknown(const std::set<std::string>& known) {
    walk_unknown(table_, "", known);
}

void ConfigReader::walk_unknown(const toml::table& table, const std::string& prefix,
                                const std::set<std::string>& known) {
    for (const auto& [k, v] : table) {
        std::string path =
            prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (known.count(path)) continue;
        if (const toml::table* sub = v.as_table()) {
            bool is_prefix = false;
            for (const std::string& name : known)
                if (name.rfind(path + ".", 0) == 0) is_prefix = true;
            if (is_prefix) {
                walk_unknown(*sub, path, known);
                continue;
            }
        }
        problem(path, "is not a known setting");
    }
}

void ConfigReader::problem(std::string_view key, std::string_view reason) {
    problems_.push_back(file_ + ": " + std::string(key) + ": " + std::string(reason));
}

Result<void> ConfigReader::finish() const {
    if (problems_.empty()) return {};
    std::string message;
    for (const std::string& p : problems_) {
        if (!message.empty()) message += "\n";
        message += p;
    }
    return fail(message);
}

}  // namespace hostline::config
