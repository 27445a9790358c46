// Starting a long-running helper process (a daemon under `hostline dev`, or in a test
// cluster) with its output going to a log file. Not for running jobs: that is the agent's
// ProcessRunner. Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/error.hpp"

namespace hostline::process {

// Starts argv (argv[0] is a path) with stdin from stdin_path, stdout and stderr appended to
// log_path, and an empty signal mask. Returns its pid; the caller reaps it.
Result<pid_t> spawn_with_log(const std::vector<std::string>& argv, const std::string& log_path,
                             const std::string& stdin_path = "/dev/null");

}  // namespace hostline::process
