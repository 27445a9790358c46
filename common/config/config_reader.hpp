// Reads typed values out of a TOML file and collects every problem with its file, key and
// reason, so a daemon can print them all and refuse to start instead of guessing.
//
//   auto table = read_toml_file(path);            // syntax errors: file:line:column
//   ConfigReader r(path, *table);
//   config.name = r.string("agent.name", "");     // wrong type -> recorded problem
//   r.check(!config.name.empty(), "agent.name", "must not be empty");
//   r.reject_unknown({"agent.name", ...});        // typos are problems too
//   if (auto done = r.finish(); !done) return done.error();
//
// Not thread-safe; use one reader per file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "common/error.hpp"

namespace hostline::config {

Result<toml::table> read_toml_file(const std::string& path);

class ConfigReader {
  public:
    ConfigReader(std::string file, const toml::table& table);

    // Each getter returns the fallback when the key is absent, and records a problem (and
    // returns the fallback) when it has the wrong type. Keys are dotted paths.
    std::string string(std::string_view key, std::string fallback);
    std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max);
    bool boolean(std::string_view key, bool fallback);
    // An integer or a float.
    double number(std::string_view key, double fallback, double min, double max);
    // A duration written as "30s", "10m", "1h30m", "250ms".
    std::int64_t duration_ms(std::string_view key, std::int64_t fallback_ms);
    // An array of strings, e.g. channels = ["#ops", "#deploys"].
    std::vector<std::string> string_list(std::string_view key);
    // A table of string values, e.g. [agent.labels].
    std::map<std::string, std::string> string_map(std::string_view key);
    bool has(std::string_view key) const;

    // Records "file: key: reason" unless ok.
    void check(bool ok, std::string_view key, std::string_view reason);
    // Records every key present in the file that is not in known (dotted paths; a known
    // key naming a table admits all keys under it).
    void reject_unknown(const std::set<std::string>& known);

    // Ok, or one error listing every problem, one per line.
    Result<void> finish() const;

  private:
    void problem(std::string_view key, std::string_view reason);
    void walk_unknown(const toml::table& table, const std::string& prefix,
                      const std::set<std::string>& known);

    std::string file_;
    const toml::table& table_;
    std::vector<std::string> problems_;
};

}  // namespace hostline::config
