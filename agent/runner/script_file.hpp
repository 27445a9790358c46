// ScriptFiles: the private copies of the scripts that runs carry (proto::Run::script).
//
// Thread: the agent's single poll-loop thread owns it; nothing here blocks for long (one
// small file write per script run).
//
// Each script run gets its own file, created with mkstemp in one directory the agent owns
// (`STATE_DIR/scripts`). The file lives from write() until remove() (the agent calls that
// when the run ends); prepare() removes what an earlier life of the agent left behind. The
// script is never made executable for anyone but its runner: it is passed to its
// interpreter as argv[1], and its arguments follow as argv, untouched.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::agent {

// Lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

class ScriptFiles {
  public:
    // dir: where the copies go; created by prepare() if missing.
    explicit ScriptFiles(std::string dir);
    // Removes the files still held (best effort).
    ~ScriptFiles();
    ScriptFiles(const ScriptFiles&) = delete;
    ScriptFiles& operator=(const ScriptFiles&) = delete;

    // Creates the directory (0711: the run user of a script must be able to reach its file;
    // nobody else may list it) and removes every file left in it. Errors: the directory
    // cannot be created, is not a directory, or cannot be read.
    Result<void> prepare();

    // Checks that content hashes to sha256 (hex, as the controller sent it) and writes it to
    // a new file: mode 0700 owned by the agent, or, when user is not empty, 0500 owned by
    // that user so the run can read it after dropping privileges. Returns the file's path.
    // Errors (the run must then be refused with the message): a hash mismatch, an unknown
    // user, any failure to create or write the file (disk full, ...). A run_id that already
    // has a file gets a new one; the old one is removed.
    Result<std::string> write(std::uint64_t run_id, std::string_view content,
                              std::string_view sha256, const std::string& user);

    // Removes the run's file; no-op for a run without one.
    void remove(std::uint64_t run_id);

  private:
    // Constant after construction.
    const std::string dir_;
    std::map<std::uint64_t, std::string> files_;
};

}  // namespace hostline::agent
