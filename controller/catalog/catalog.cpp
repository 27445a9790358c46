// Loads commands.d/*.toml. Every problem is collected with its file, command and key, so an
// operator sees them all at once.
#include "controller/catalog/catalog.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "chat/grammar/parser.hpp"
#include "common/config/config_reader.hpp"
#include "common/duration.hpp"
#include "controller/catalog/argv_template.hpp"
#include "controller/catalog/binding.hpp"
#include "controller/catalog/param_value.hpp"

namespace hostline::controller {

namespace fs = std::filesystem;

namespace {

// Chat built-ins (DESIGN.md "Chat"); a catalog command may not hide one.
const std::set<std::string> kBuiltins = {
    "help",    "hosts", "run",     "jobs",     "job",    "output",  "cancel",
    "approve", "deny",  "pending", "schedule", "whoami", "history", "agents",
};
// Options the grammar takes out before binding; a param by these names could never be set.
const std::set<std::string> kSharedOptions = {"on",         "timeout",   "batch",
                                              "batch_wait", "fail_fast", "dry_run"};

const std::set<std::string> kCommandKeys = {
    "name",
    "summary",
    "help",
    "example",
    "run",
    "script",
    "interpreter",
    "timeout",
    "targets",
    "allowed_targets",
    "concurrency",
    "env",
    "cwd",
    "user",
    "output_cap",
    "channels",
    "permission",
    "param",
    "approval.group",
    "approval.count",
    "approval.expiry",
    "on_busy",
    "retries",
    "retry_on",
    "retry_backoff",
};
const std::set<std::string> kParamKeys = {"name",     "type", "pattern", "choices", "default",
                                          "required", "min",  "max",     "help"};

// A name as an error quotes it: at most 40 bytes (cut on a UTF-8 boundary), in quotes.
std::string quoted_name(std::string_view name) {
    constexpr std::size_t kMaxQuoted = 40;
    if (name.size() <= kMaxQuoted) return "'" + std::string(name) + "'";
    std::size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    return "'" + std::string(name.substr(0, cut)) + "…' (" + std::to_string(name.size()) +
           " bytes)";
}

bool is_command_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

bool is_param_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

bool is_env_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
        std::abort();  // SHA-256 is always available in OpenSSL 3's default provider
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0xf];
    }
    return out;
}

// A TOML array of strings, or nullopt after recording why not.
std::optional<std::vector<std::string>> string_array(config::ConfigReader& reader,
                                                     const toml::table& table,
                                                     std::string_view key) {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::vector<std::string>{};
    const toml::array* array = node->as_array();
    std::vector<std::string> out;
    bool ok = array != nullptr;
    if (ok) {
        for (const toml::node& item : *array) {
            auto text = item.value_exact<std::string>();
            if (!text)
                ok = false;
            else
                out.push_back(*text);
        }
    }
    reader.check(ok, key, "must be an array of strings");
    if (!ok) return std::nullopt;
    return out;
}

class FileLoader {
  public:
    FileLoader(const fs::path& dir, std::string file, const target::Groups& groups,
               std::vector<std::string>& problems)
        : dir_(dir), file_(std::move(file)), groups_(groups), problems_(problems) {}

    void load(const toml::table& root, std::vector<CommandSpec>& out) {
        config::ConfigReader reader(file_, root);
        reader.reject_unknown({"command"});
        const toml::node* node = root.get("command");
        const toml::array* commands = node ? node->as_array() : nullptr;
        reader.check(node == nullptr || (commands && commands->is_array_of_tables()), "command",
                     "must be an array of tables: write [[command]]");
        collect(reader);
        if (commands == nullptr || !commands->is_array_of_tables()) return;
        std::size_t index = 0;
        for (const toml::node& item : *commands) {
            ++index;
            if (auto spec = load_command(*item.as_table(), index)) out.push_back(std::move(*spec));
        }
    }

  private:
    void collect(const config::ConfigReader& reader) {
        auto done = reader.finish();
        if (done) return;
        std::istringstream lines(done.error().message);
        for (std::string line; std::getline(lines, line);) problems_.push_back(line);
    }

    std::optional<CommandSpec> load_command(const toml::table& table, std::size_t index) {
        const std::size_t problems_before = problems_.size();
        CommandSpec spec;
        spec.file = file_;
        auto name =
            table.get("name") ? table.get("name")->value_exact<std::string>() : std::nullopt;
        bool named = name && is_command_name(*name);
        std::string label = named ? file_ + ": command '" + *name + "'"
                                  : file_ + ": command #" + std::to_string(index);
        config::ConfigReader reader(label, table);
        reader.reject_unknown(kCommandKeys);
        if (!table.get("name"))
            reader.check(false, "name", "is required");
        else if (!name)
            reader.check(false, "name", "must be a string");
        else if (!named)
            reader.check(false, "name",
                         quoted_name(*name) +
                             " must be lowercase letters, digits and '-', "
                             "starting with a letter, at most 64 long");
        else if (kBuiltins.count(*name))
            reader.check(false, "name", "'" + *name + "' is a built-in command");
        if (named) spec.name = *name;

        spec.summary = reader.string("summary", "");
        reader.check(reader.has("summary"), "summary", "is required");
        reader.check(
            !table.get("summary") || !table.get("summary")->is_string() || !spec.summary.empty(),
            "summary", "must not be empty");
        spec.help = reader.string("help", "");

        load_params(table, label, spec);
        load_program(reader, table, spec);

        if (reader.has("timeout")) {
            auto ms = reader.duration_ms("timeout", -1);  // -1: a problem already recorded
            reader.check(ms != 0, "timeout", "must be more than 0s");
            if (ms > 0) spec.timeout = std::chrono::milliseconds(ms);
        }
        spec.default_target = reader.string("targets", "");
        if (!spec.default_target.empty()) {
            auto parsed = target::TargetExpr::parse(spec.default_target, groups_);
            reader.check(parsed.ok(), "targets", parsed.ok() ? "" : parsed.error().message);
        }
        if (std::string text = reader.string("allowed_targets", ""); !text.empty()) {
            auto parsed = target::TargetExpr::parse(text, groups_);
            if (parsed)
                spec.allowed_targets = std::move(*parsed);
            else
                reader.check(false, "allowed_targets", parsed.error().message);
        }
        spec.concurrency = static_cast<int>(reader.integer("concurrency", 0, 1, 1 << 20));
        load_scheduling(reader, table, spec);
        spec.env = reader.string_map("env");
        for (const auto& [key, value] : spec.env) {
            reader.check(is_env_name(key), "env." + key,
                         "is not a variable name (letters, digits and '_')");
            reader.check(value.find('\0') == std::string::npos, "env." + key,
                         "must not contain NUL");
        }
        spec.cwd = reader.string("cwd", "");
        reader.check(spec.cwd.empty() || spec.cwd[0] == '/', "cwd", "must be an absolute path");
        spec.user = reader.string("user", "");
        reader.check(spec.user.find_first_of(" \t\r\n:/") == std::string::npos &&
                         !has_control_characters(spec.user),
                     "user", "must be a user name");
        if (reader.has("output_cap"))
            spec.output_cap = reader.integer("output_cap", 0, 1, std::int64_t{1} << 40);
        if (auto channels = string_array(reader, table, "channels")) spec.channels = *channels;
        spec.permission = reader.string("permission", "command." + spec.name);
        reader.check(!spec.permission.empty(), "permission", "must not be empty");

        if (reader.has("approval")) {
            ApprovalSpec approval;
            approval.group = reader.string("approval.group", "");
            reader.check(!approval.group.empty(), "approval.group", "is required");
            approval.count = static_cast<int>(reader.integer("approval.count", 1, 1, 100));
            auto expiry = reader.duration_ms("approval.expiry", approval.expiry.count());
            reader.check(expiry > 0, "approval.expiry", "must be more than 0s");
            approval.expiry = std::chrono::milliseconds(expiry);
            spec.approval = approval;
        }

        spec.example = reader.string("example", "");
        collect(reader);
        if (!named || problems_.size() != problems_before) return std::nullopt;
        if (auto bad = check_example(spec)) {
            problems_.push_back(label + ": example: " + *bad);
            return std::nullopt;
        }
        return spec;
    }

    // on_busy and the retry keys (docs/scheduling.md, "Concurrency" and "Retries").
    static void load_scheduling(config::ConfigReader& reader, const toml::table& table,
                                CommandSpec& spec) {
        std::string on_busy = reader.string("on_busy", "wait");
        reader.check(on_busy == "wait" || on_busy == "refuse", "on_busy",
                     "must be \"wait\" or \"refuse\"");
        spec.on_busy = on_busy == "refuse" ? OnBusy::refuse : OnBusy::wait;
        reader.check(!reader.has("on_busy") || spec.concurrency > 0, "on_busy",
                     "needs concurrency: without a cap a command is never busy");

        RetryPolicy& retry = spec.retry;
        retry.retries = static_cast<int>(reader.integer("retries", 0, 0, RetryPolicy::kMaxRetries));
        if (reader.has("retry_on")) {
            retry.retry_on.clear();
            auto states = string_array(reader, table, "retry_on");
            for (const std::string& name : states.value_or(std::vector<std::string>{})) {
                auto state = parse_run_state(name);
                bool retryable = state == RunState::lost || state == RunState::timed_out ||
                                 state == RunState::failed;
                reader.check(retryable, "retry_on",
                             quoted_name(name) + " is not one of lost, timed_out, failed");
                if (retryable) retry.retry_on.insert(*state);
            }
            reader.check(!states || !states->empty(), "retry_on", "must name at least one state");
        }
        auto backoff = reader.duration_ms("retry_backoff", retry.backoff.count());
        reader.check(backoff > 0, "retry_backoff", "must be more than 0s");
        if (backoff > 0) retry.backoff = std::chrono::milliseconds(backoff);
        reader.check(retry.retries > 0 || (!reader.has("retry_on") && !reader.has("retry_backoff")),
                     reader.has("retry_on") ? "retry_on" : "retry_backoff",
                     "needs retries: without it the command is never retried");
    }

    // An example that would not run as shown is a mistake in the catalog, caught at load.
    static std::optional<std::string> check_example(const CommandSpec& spec) {
        if (spec.example.empty()) return std::nullopt;
        auto parsed = chat::parse_command(spec.name + " " + spec.example);
        if (!parsed) return parsed.error().message;
        if (auto bound = bind(spec, *parsed); !bound) return bound.error().message;
        return std::nullopt;
    }

    void load_params(const toml::table& table, const std::string& label, CommandSpec& spec) {
        const toml::node* node = table.get("param");
        if (node == nullptr) return;
        const toml::array* array = node->as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            problems_.push_back(label +
                                ": param: must be an array of tables: write [[command.param]]");
            return;
        }
        std::size_t index = 0;
        for (const toml::node& item : *array) {
            ++index;
            load_param(*item.as_table(), label, index, spec);
        }
    }

    void load_param(const toml::table& table, const std::string& command_label, std::size_t index,
                    CommandSpec& spec) {
        ParamSpec param;
        auto name =
            table.get("name") ? table.get("name")->value_exact<std::string>() : std::nullopt;
        bool named = name && is_param_name(*name);
        std::string label = named ? command_label + ": param '" + *name + "'"
                                  : command_label + ": param #" + std::to_string(index);
        config::ConfigReader reader(label, table);
        reader.reject_unknown(kParamKeys);
        if (!name)
            reader.check(false, "name", table.get("name") ? "must be a string" : "is required");
        else if (!named)
            reader.check(false, "name",
                         quoted_name(*name) +
                             " must be lowercase letters, digits and '_', "
                             "starting with a letter");
        else if (kSharedOptions.count(*name))
            reader.check(
                false, "name",
                "'" + *name +
                    "' is taken by a shared option (--on, --timeout, --batch, --batch-wait, "
                    "--fail-fast, --dry-run)");
        else
            for (const ParamSpec& other : spec.params)
                reader.check(other.name != *name, "name", "is declared twice");
        if (named) param.name = *name;

        std::string type = reader.string("type", "string");
        if (type == "string")
            param.type = ParamType::string;
        else if (type == "int")
            param.type = ParamType::integer;
        else if (type == "bool")
            param.type = ParamType::boolean;
        else if (type == "enum")
            param.type = ParamType::enumeration;
        else if (type == "duration")
            param.type = ParamType::duration;
        else
            reader.check(false, "type",
                         "must be string, int, bool, enum or duration, not '" + type + "'");
        param.help = reader.string("help", "");
        param.required = reader.boolean("required", false);

        param.pattern = reader.string("pattern", "");
        if (reader.has("pattern")) {
            reader.check(param.type == ParamType::string, "pattern",
                         "applies only to string params");
            auto regex = compile_pattern(param.pattern);
            if (regex)
                param.regex = std::move(*regex);
            else
                reader.check(false, "pattern", regex.error().message);
        }
        if (reader.has("choices")) {
            reader.check(param.type == ParamType::enumeration, "choices",
                         "applies only to enum params");
            if (auto choices = string_array(reader, table, "choices")) param.choices = *choices;
            for (const std::string& choice : param.choices)
                reader.check(!choice.empty() && !has_control_characters(choice), "choices",
                             "must not be empty or hold control characters");
        }
        reader.check(param.type != ParamType::enumeration || !param.choices.empty(), "choices",
                     "is required for an enum param");
        for (const char* key : {"min", "max"}) {
            if (!reader.has(key)) continue;
            reader.check(param.type == ParamType::integer, key, "applies only to int params");
            auto value = reader.integer(key, 0, std::numeric_limits<std::int64_t>::min(),
                                        std::numeric_limits<std::int64_t>::max());
            (std::string_view(key) == "min" ? param.min : param.max) = value;
        }
        reader.check(!param.min || !param.max || *param.min <= *param.max, "max",
                     "must not be less than min");

        if (const toml::node* node = table.get("default")) {
            std::optional<std::string> text;
            if (param.type == ParamType::integer) {
                if (auto v = node->value_exact<std::int64_t>()) text = std::to_string(*v);
            } else if (param.type == ParamType::boolean) {
                if (auto v = node->value_exact<bool>()) text = *v ? "true" : "false";
            } else {
                text = node->value_exact<std::string>();
            }
            if (!text) {
                reader.check(false, "default", "must be a " + type + " value");
            } else if (auto checked = check_value(param, *text)) {
                param.default_value = *checked;
            } else {
                reader.check(false, "default", checked.error().message);
            }
            reader.check(!param.required, "required",
                         "a param with a default is never missing; drop one of them");
        }
        collect(reader);
        if (named) spec.params.push_back(std::move(param));
    }

    void load_program(config::ConfigReader& reader, const toml::table& table, CommandSpec& spec) {
        bool has_run = table.get("run") != nullptr;
        bool has_script = table.get("script") != nullptr;
        reader.check(has_run != has_script, "run",
                     has_run ? "give run or script, not both" : "give run or script");
        reader.check(has_script || !reader.has("interpreter"), "interpreter",
                     "applies only to script commands");
        if (has_run) load_run(reader, table, spec);
        if (has_script) load_script(reader, spec);
    }

    void load_run(config::ConfigReader& reader, const toml::table& table, CommandSpec& spec) {
        auto run = string_array(reader, table, "run");
        if (!run) return;
        reader.check(!run->empty() && !(*run)[0].empty(), "run", "must name a program first");
        std::set<std::string> used;
        for (std::size_t i = 0; i < run->size(); ++i) {
            std::string key = "run[" + std::to_string(i) + "]";
            auto parts = parse_template((*run)[i]);
            if (!parts) {
                reader.check(false, key, parts.error().message);
                continue;
            }
            for (const TemplatePart& part : *parts) {
                if (!part.placeholder) continue;
                reader.check(i != 0, key, "the program must not be a placeholder");
                bool known = std::any_of(spec.params.begin(), spec.params.end(),
                                         [&](const ParamSpec& p) { return p.name == part.text; });
                reader.check(known, key, "{" + part.text + "} names no param");
                used.insert(part.text);
            }
        }
        for (const ParamSpec& param : spec.params)
            reader.check(used.count(param.name) > 0, "param '" + param.name + "'",
                         "is never used in run");
        spec.run = std::move(*run);
    }

    void load_script(config::ConfigReader& reader, CommandSpec& spec) {
        spec.script = reader.string("script", "");
        spec.interpreter = reader.string("interpreter", "/bin/sh");
        reader.check(!spec.interpreter.empty() && spec.interpreter[0] == '/', "interpreter",
                     "must be an absolute path");
        fs::path relative(spec.script);
        bool inside = !spec.script.empty() && relative.is_relative();
        for (const fs::path& part : relative)
            if (part == "..") inside = false;
        std::error_code ec;
        fs::path full = dir_ / relative;
        if (inside) {
            // Symlinks may not lead out either.
            fs::path real_dir = fs::canonical(dir_, ec);
            fs::path real = ec ? fs::path() : fs::weakly_canonical(full, ec);
            auto dir_end =
                std::mismatch(real_dir.begin(), real_dir.end(), real.begin(), real.end()).first;
            inside = !ec && dir_end == real_dir.end();
        }
        if (!inside) {
            reader.check(false, "script",
                         "'" + spec.script +
                             "' must be a relative path inside the catalog "
                             "directory");
            return;
        }
        std::ifstream in(full, std::ios::binary);
        if (!fs::is_regular_file(full, ec) || !in) {
            reader.check(false, "script", "cannot read " + full.string());
            return;
        }
        std::string content;
        content.resize(kMaxScriptBytesPlusOne);
        in.read(content.data(), static_cast<std::streamsize>(content.size()));
        content.resize(static_cast<std::size_t>(in.gcount()));
        if (content.size() > Catalog::kMaxScriptBytes) {
            reader.check(false, "script", full.string() + " is larger than 1 MiB");
            return;
        }
        spec.script_sha256 = sha256_hex(content);
        spec.script_content = std::move(content);
    }

    static constexpr std::size_t kMaxScriptBytesPlusOne = Catalog::kMaxScriptBytes + 1;

    const fs::path& dir_;
    std::string file_;
    const target::Groups& groups_;
    std::vector<std::string>& problems_;
};

}  // namespace

Result<Catalog> Catalog::load(const std::string& dir, const target::Groups& groups) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fail("catalog directory " + dir + ": " +
                    (fs::exists(dir, ec) ? "is not a directory" : "does not exist"));
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.size() > 5 && name.ends_with(".toml") && name[0] != '.') names.push_back(name);
    }
    if (ec) return fail("catalog directory " + dir + ": " + ec.message());
    std::sort(names.begin(), names.end());

    fs::path root(dir);
    std::vector<std::string> problems;
    std::vector<CommandSpec> commands;
    for (const std::string& name : names) {
        std::string file = (root / name).string();
        auto table = config::read_toml_file(file);
        if (!table) {
            problems.push_back(table.error().message);
            continue;
        }
        FileLoader(root, file, groups, problems).load(*table, commands);
    }

    std::map<std::string, const CommandSpec*> seen;
    for (const CommandSpec& spec : commands) {
        auto [it, fresh] = seen.emplace(spec.name, &spec);
        if (!fresh)
            problems.push_back(spec.file + ": command '" + spec.name +
                               "': name: already declared in " + it->second->file);
    }
    if (!problems.empty()) {
        std::string message;
        for (const std::string& p : problems) message += (message.empty() ? "" : "\n") + p;
        return fail(message);
    }
    std::sort(commands.begin(), commands.end(),
              [](const CommandSpec& a, const CommandSpec& b) { return a.name < b.name; });
    Catalog catalog;
    catalog.commands_ = std::move(commands);
    return catalog;
}

const CommandSpec* Catalog::find(std::string_view name) const {
    auto it =
        std::lower_bound(commands_.begin(), commands_.end(), name,
                         [](const CommandSpec& spec, std::string_view n) { return spec.name < n; });
    if (it == commands_.end() || it->name != name) return nullptr;
    return &*it;
}

}  // namespace hostline::controller
