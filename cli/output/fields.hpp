// Reading fields of the controller's JSON documents without trusting their shape.
//
// The CLI prints what it gets; a field that is missing or of another type reads as empty
// rather than throwing, so one odd value costs a "-" in a table, not the whole command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostline::cli {

// The string at object[key]; "" when absent or not a string.
std::string text_field(const nlohmann::json& object, const char* key);

// The integer at object[key]; nullopt when absent, null or not an integer.
std::optional<std::int64_t> int_field(const nlohmann::json& object, const char* key);

// The boolean at object[key]; false when absent or not a boolean.
bool bool_field(const nlohmann::json& object, const char* key);

// The strings in the array at object[key], skipping other elements; empty when absent.
std::vector<std::string> strings_field(const nlohmann::json& object, const char* key);

// object[key] when it is an object; an empty object otherwise.
const nlohmann::json& object_field(const nlohmann::json& object, const char* key);

// object[key] when it is an array; an empty array otherwise.
const nlohmann::json& array_field(const nlohmann::json& object, const char* key);

}  // namespace hostline::cli
