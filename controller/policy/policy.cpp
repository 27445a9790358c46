// Loads policy.toml and answers policy questions. Pure: no I/O beyond reading the file.
#include "controller/policy/policy.hpp"

#include <algorithm>

#include "common/config/config_reader.hpp"

namespace hostline::controller {
namespace {

bool is_role_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::string permission_names() {
    std::string out;
    for (const char* p : kPermissions) out += std::string(out.empty() ? "" : ", ") + p;
    return out + " or command.NAME (a catalog command's permission)";
}

// "platform:rest" with both parts non-empty, no spaces, and `*` only at the end.
bool is_pattern(std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
    if (text.find_first_of(" \t\r\n") != std::string_view::npos) return false;
    auto star = text.find('*');
    return star == std::string_view::npos || star + 1 == text.size();
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

// The keys of the table at key, or none; records a problem if it is not a table.
std::vector<std::string> table_keys(const toml::table& root, const char* key,
                                    config::ConfigReader& r) {
    std::vector<std::string> keys;
    const toml::node* node = root.get(key);
    if (node == nullptr) return keys;
    const toml::table* table = node->as_table();
    r.check(table != nullptr, key, "must be a table, e.g. [" + std::string(key) + ".NAME]");
    if (table == nullptr) return keys;
    for (const auto& [k, v] : *table) {
        keys.emplace_back(k.str());
        r.check(v.is_table(), std::string(key) + "." + keys.back(),
                "must be a table, e.g. [" + std::string(key) + "." + keys.back() + "]");
    }
    return keys;
}

}  // namespace

bool identity_matches(const std::string& pattern, const std::string& identity) {
    if (!pattern.empty() && pattern.back() == '*')
        return identity.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return pattern == identity;
}

Policy::Policy() {
    Role admin;
    admin.name = kAdminRole;
    admin.all = true;
    roles_.push_back(std::move(admin));
}

Result<Policy> Policy::load(const std::string& path, const target::Groups& target_groups,
                            const std::set<std::string>& command_permissions) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    Policy policy;
    policy.file_ = path;
    std::set<std::string> known_keys;

    for (const std::string& name : table_keys(*table, "roles", r)) {
        const std::string key = "roles." + name;
        r.check(is_role_name(name), key,
                "a role name uses only a-z, 0-9, '-' and '_' (at most 64 characters)");
        r.check(name != kAdminRole, key,
                "admin is built in (every permission, host and channel); it cannot be redefined");
        Role role;
        role.name = name;
        for (const std::string& p : r.string_list(key + ".permissions")) {
            bool known =
                std::find_if(std::begin(kPermissions), std::end(kPermissions),
                             [&](const char* k) { return p == k; }) != std::end(kPermissions);
            if (p.rfind("command.", 0) == 0) {
                r.check(command_permissions.count(p) > 0, key + ".permissions",
                        "'" + p + "' is not the permission of any catalog command");
            } else {
                r.check(known, key + ".permissions",
                        "unknown permission '" + p + "'; expected " + permission_names());
            }
            role.permissions.insert(p);
        }
        if (r.has(key + ".targets")) {
            std::string text = r.string(key + ".targets", "");
            auto parsed = target::TargetExpr::parse(text, target_groups);
            r.check(parsed.ok(), key + ".targets", parsed ? "" : parsed.error().message);
            if (parsed) role.targets = std::move(*parsed);
        }
        role.channels = r.string_list(key + ".channels");
        for (const std::string& ch : role.channels)
            r.check(
                is_pattern(ch), key + ".channels",
                "'" + ch + "' is not platform:channel (e.g. \"irc:#ops\", \"slack:C024BE91L\")");
        if (r.has(key + ".approval")) {
            RoleApproval approval;
            approval.group = r.string(key + ".approval.group", "");
            r.check(!approval.group.empty(), key + ".approval.group", "is required");
            approval.count = static_cast<int>(r.integer(key + ".approval.count", 1, 1, 100));
            approval.expiry_ms = r.duration_ms(key + ".approval.expiry", approval.expiry_ms);
            r.check(approval.expiry_ms > 0, key + ".approval.expiry", "must be more than 0s");
            role.approval = approval;
            if (const toml::table* t = (*table)["roles"][name]["approval"].as_table())
                for (const auto& [k, v] : *t)
                    r.check(k.str() == "group" || k.str() == "count" || k.str() == "expiry",
                            key + ".approval." + std::string(k.str()),
                            "is not a known setting; expected group, count, expiry");
        }
        for (const char* k : {".permissions", ".targets", ".channels", ".approval"})
            known_keys.insert(key + k);
        policy.roles_.push_back(std::move(role));
    }

    for (const std::string& name : table_keys(*table, "groups", r)) {
        const std::string key = "groups." + name;
        r.check(is_role_name(name), key,
                "a group name uses only a-z, 0-9, '-' and '_' (at most 64 characters)");
        Group group;
        group.members = r.string_list(key + ".members");
        for (const std::string& m : group.members)
            r.check(is_pattern(m), key + ".members",
                    "'" + m + "' is not platform:id (e.g. \"irc:alice\", or \"local:*\" for all)");
        group.roles = r.string_list(key + ".roles");
        for (const std::string& role : group.roles)
            r.check(policy.role(role) != nullptr, key + ".roles",
                    "there is no role '" + role + "' ([roles." + role + "] or admin)");
        for (const char* k : {".members", ".roles"}) known_keys.insert(key + k);
        policy.groups_[name] = std::move(group);
    }
    known_keys.insert("roles");  // an empty [roles] or [groups] is fine
    known_keys.insert("groups");
    // reject_unknown admits everything under a known table, so check the two levels here.
    for (const auto& [k, v] : *table)
        r.check(k.str() == "roles" || k.str() == "groups", std::string(k.str()),
                "is not a known setting; expected [roles.NAME] and [groups.NAME]");
    for (const char* section : {"roles", "groups"}) {
        const toml::table* sub = (*table)[section].as_table();
        if (sub == nullptr) continue;
        for (const auto& [name, body] : *sub) {
            const toml::table* entry = body.as_table();
            if (entry == nullptr) continue;
            for (const auto& [k, v] : *entry) {
                std::string full = std::string(section) + "." + std::string(name.str()) + "." +
                                   std::string(k.str());
                r.check(known_keys.count(full) > 0, full,
                        std::string("is not a known setting; expected ") +
                            (std::string(section) == "roles"
                                 ? "permissions, targets, channels, approval"
                                 : "members, roles"));
            }
        }
    }
    if (auto done = r.finish(); !done) return done.error();
    return policy;
}

const Role* Policy::role(const std::string& name) const {
    for (const Role& role : roles_)
        if (role.name == name) return &role;
    return nullptr;
}

std::vector<std::string> Policy::roles_of(const std::string& identity) const {
    std::set<std::string> names;
    if (identity == kAdminTokenIdentity) names.insert(kAdminRole);
    for (const auto& [_, group] : groups_)
        for (const std::string& member : group.members)
            if (identity_matches(member, identity))
                names.insert(group.roles.begin(), group.roles.end());
    return {names.begin(), names.end()};
}

bool Policy::in_group(const std::string& identity, const std::string& group) const {
    auto it = groups_.find(group);
    if (it == groups_.end()) return false;
    return std::any_of(it->second.members.begin(), it->second.members.end(),
                       [&](const std::string& m) { return identity_matches(m, identity); });
}

Decision Policy::decide(const PolicyRequest& request) const {
    std::vector<const Role*> granting;
    for (const std::string& name : roles_of(request.identity)) {
        const Role* r = role(name);
        if (r != nullptr && (r->all || r->permissions.count(request.permission)))
            granting.push_back(r);
    }
    if (granting.empty())
        return {false, "", "you (" + request.identity + ") lack " + request.permission, {}};

    // The API and the CLI are not chat channels: a role's channels restrict chat only.
    std::vector<const Role*> here;
    for (const Role* r : granting) {
        bool ok = r->all || r->channels.empty() || request.channel.empty() ||
                  std::any_of(r->channels.begin(), r->channels.end(), [&](const std::string& c) {
                      return identity_matches(c, request.channel);
                  });
        if (ok) here.push_back(r);
    }
    if (here.empty())
        return {false, "", request.permission + " is not allowed in " + request.channel, {}};

    std::vector<std::string> best_outside;
    bool first = true;
    std::vector<std::string> scopes;
    const Role* allowing = nullptr;  // preferring a role that needs no approval
    for (const Role* r : here) {
        std::vector<std::string> outside;
        for (const target::Host& host : request.hosts)
            if (!r->all && !(r->targets && r->targets->matches(host))) outside.push_back(host.name);
        if (outside.empty()) {
            if (!r->approval) return {true, r->name, "", std::nullopt};
            if (allowing == nullptr) allowing = r;
            continue;
        }
        std::string scope = r->targets ? r->targets->text() : "no hosts";
        if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) scopes.push_back(scope);
        if (first || outside.size() < best_outside.size()) best_outside = std::move(outside);
        first = false;
    }
    if (allowing != nullptr) return {true, allowing->name, "", allowing->approval};
    return {false,
            "",
            join(best_outside) + (best_outside.size() == 1 ? " is" : " are") +
                " outside the hosts your roles may touch (" + join(scopes, " or ") + ")",
            {}};
}

}  // namespace hostline::controller
