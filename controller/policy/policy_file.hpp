// The policy in force, and the file it comes from: loaded at start, reloaded on SIGHUP and by
// POST /api/v1/policy/reload. A file that does not load is refused with its errors and the
// policy in force stays; nothing in flight is touched either way, since each decision is
// made once, when a request arrives.
//
// Threads: every method is called on the controller's io_context thread. reload() reads the
// file on a thread of its own and hands the result back through `post`, so the loop never
// waits on the disk. The PolicyFile must outlive every handler it posted (App stops the loop
// before destroying it) and joins its reading threads when destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/policy/policy.hpp"

namespace hostline::controller {

class PolicyFile {
  public:
    using Post = std::function<void(std::function<void()>)>;

    // path empty: no policy file; only the admin token may do anything, and reload() fails.
    PolicyFile(std::string path, target::Groups groups, std::set<std::string> command_permissions,
               AuditTrail& audit, Post post);
    ~PolicyFile();

    // Reads the file now (blocking: for start-up only). Error: the file's problems.
    Result<void> load();

    // Reads the file again without blocking; done gets the outcome on the io thread. On
    // error the policy in force stays. actor is who asked ("controller" for SIGHUP).
    void reload(const std::string& actor, std::function<void(Result<void>)> done);

    // The policy in force. Hold the pointer for as long as one decision needs it.
    std::shared_ptr<const Policy> current() const { return current_; }
    const std::string& path() const { return path_; }
    // The @groups of controller.toml, for resolving targets the way the scheduler does.
    const target::Groups& groups() const { return groups_; }

  private:
    Result<Policy> read() const;

    // Constant after construction.
    const std::string path_;
    const target::Groups groups_;
    const std::set<std::string> command_permissions_;
    AuditTrail& audit_;
    const Post post_;

    std::shared_ptr<const Policy> current_;
    // Reading threads by id; those whose result has been delivered are joined (at once: they
    // end right after posting it) when the next reload starts, so they do not pile up.
    std::map<std::uint64_t, std::thread> readers_;
    std::vector<std::uint64_t> delivered_;
    std::uint64_t next_reader_ = 1;
};

}  // namespace hostline::controller
