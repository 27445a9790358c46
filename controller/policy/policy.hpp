// The policy: who may do what, on which hosts, from which channel (docs/policy.md).
//
//   auto policy = Policy::load("/etc/hostline/policy.toml", config.groups, catalog_permissions);
//   Decision d = policy->decide({"irc:alice", "command.uptime", hosts, "irc:#ops"});
//   if (!d.allowed) reply(d.reason);
//
// Roles grant permissions, each role with a target scope (the hosts it may touch) and the
// channels it may be used from; groups give identities roles. Deny by default: a request is
// allowed only if ONE role of the caller grants the permission, covers every host and allows
// the channel. The built-in role `admin` has every permission, host and channel; the API's
// admin token (identity token:admin) always holds it.
//
// Scheduled runs (a later issue) must be decided here too when each one fires, as the
// identity that created the schedule, with channel "": the same decide() call.
//
// A loaded Policy is immutable, so any thread may read it; reloading builds a new one.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/target/target_expr.hpp"

namespace hostline::controller {

// What may be asked of the policy, beside command.<name> (a catalog command's permission).
inline constexpr const char* kPermissions[] = {
    "run.adhoc",     "jobs.read",        "jobs.cancel.any", "approvals.decide",
    "agents.manage", "schedules.manage", "audit.read",      "tokens.manage",
    "policy.reload", "metrics.read",     "logs.manage",
};

inline constexpr const char* kAdminRole = "admin";
// The identity of the API's admin token; it holds the admin role whatever the file says.
inline constexpr const char* kAdminTokenIdentity = "token:admin";

struct PolicyRequest {
    std::string identity;    // "irc:alice", "token:admin", "local:bob"
    std::string permission;  // "command.uptime", "run.adhoc", "jobs.read", ...
    // Every host the target matched, online or not; empty for requests about no host.
    std::vector<target::Host> hosts;
    std::string channel;  // "platform:channel", e.g. "irc:#ops"; "" for the API and CLI
};

// A role's own approval rule ([roles.NAME.approval]): what it allows waits for this many
// approvals from the group, as a catalog command's [command.approval] does.
struct RoleApproval {
    std::string group;
    int count = 1;
    std::int64_t expiry_ms = 30 * 60 * 1000;
};

struct Decision {
    bool allowed = false;
    std::string role;    // the role that allowed it
    std::string reason;  // why not: "you (irc:alice) lack command.restart-service", ...
    // Set when the role that allowed it needs approval (no other role of the caller allowed
    // it without one).
    std::optional<RoleApproval> approval;
};

struct Role {
    std::string name;
    std::set<std::string> permissions;
    bool all = false;                           // admin: every permission, host and channel
    std::optional<target::TargetExpr> targets;  // unset: no host (unless all)
    std::vector<std::string> channels;          // empty: any channel
    std::optional<RoleApproval> approval;       // what it allows needs approval first
};

class Policy {
  public:
    // A policy with no file: only the admin token may do anything.
    Policy();

    // Reads and validates path. Never throws. Every problem names the file and the key, and
    // all of them come back in one error, one per line. groups expands @group in role
    // targets; command_permissions are the catalog's permissions (a command.* permission
    // must be one of them).
    static Result<Policy> load(const std::string& path, const target::Groups& groups,
                               const std::set<std::string>& command_permissions);

    Decision decide(const PolicyRequest& request) const;

    // The names of the roles identity holds, sorted; "admin" for the admin token.
    std::vector<std::string> roles_of(const std::string& identity) const;
    // Whether identity is a member of group (for approvals).
    bool in_group(const std::string& identity, const std::string& group) const;
    // nullptr if there is no such role.
    const Role* role(const std::string& name) const;
    // The file it was read from; "" when there is none.
    const std::string& file() const { return file_; }

  private:
    struct Group {
        std::vector<std::string> members;  // "platform:id", or a prefix glob "local:*"
        std::vector<std::string> roles;
    };

    std::string file_;
    std::vector<Role> roles_;
    std::map<std::string, Group> groups_;
};

// "irc:alice" matches "irc:alice" and "irc:*"; a `*` may only end a pattern.
bool identity_matches(const std::string& pattern, const std::string& identity);

}  // namespace hostline::controller
