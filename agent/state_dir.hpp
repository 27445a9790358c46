// The agent's state directory (agent.state_dir): its CURVE key pair and `scripts/`.
//
// The directory is mode 0711. A script run as another user (ScriptFiles) lives in
// `scripts/`, so that user must be able to pass through the state directory; nobody else
// may list it. What is secret in it protects itself: the secret key is a 0600 file, and
// transport::load_or_create_key_pair refuses one that others can read.
//
// Thread: called once at start, before the poll loop.
#pragma once

#include <string>

#include "common/error.hpp"

namespace hostline::agent {

// Creates dir (0711) if missing, or sets an existing one (earlier agents made it 0700) to
// 0711. Errors: it cannot be created, is not a directory, or its mode cannot be set.
Result<void> prepare_state_dir(const std::string& dir);

}  // namespace hostline::agent
