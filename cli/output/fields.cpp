#include "cli/output/fields.hpp"

namespace hostline::cli {

namespace {

const nlohmann::json* find(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

}  // namespace

std::string text_field(const nlohmann::json& object, const char* key) {
    const auto* value = find(object, key);
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<std::int64_t> int_field(const nlohmann::json& object, const char* key) {
    const auto* value = find(object, key);
    if (value == nullptr || !value->is_number_integer()) return std::nullopt;
    return value->get<std::int64_t>();
}

bool bool_field(const nlohmann::json& object, const char* key) {
    const auto* value = find(object, key);
    return value != nullptr && value->is_boolean() && value->get<bool>();
}

std::vector<std::string> strings_field(const nlohmann::json& object, const char* key) {
    std::vector<std::string> strings;
    for (const auto& element : array_field(object, key))
        if (element.is_string()) strings.push_back(element.get<std::string>());
    return strings;
}

const nlohmann::json& object_field(const nlohmann::json& object, const char* key) {
    static const nlohmann::json kEmpty = nlohmann::json::object();
    const auto* value = find(object, key);
    return value != nullptr && value->is_object() ? *value : kEmpty;
}

const nlohmann::json& array_field(const nlohmann::json& object, const char* key) {
    static const nlohmann::json kEmpty = nlohmann::json::array();
    const auto* value = find(object, key);
    return value != nullptr && value->is_array() ? *value : kEmpty;
}

}  // namespace hostline::cli
