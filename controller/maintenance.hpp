// The controller's maintenance commands, run by hand or by the packages' maintainer scripts
// while the daemon may be running (docs/cli.md, hostline-controller):
//   init    make what is missing in data_dir and bring the database to the current schema
//   backup  an online copy of the database
// Each prints one line per thing it did on stdout and the reason of a failure on stderr, and
// returns the process's exit status: 0 done (or nothing to do), 1 failed.
#pragma once

#include <string>

#include "controller/config/controller_config.hpp"

namespace hostline::controller {

// Creates data_dir (0750), the CURVE key pair and the admin token (0600) when missing, and
// creates or upgrades the database. Before upgrading an existing database it backs it up to
// DATA_DIR/backups/hostline-schemaN-YYYYmmddTHHMMSSZ.db. Refuses a schema newer than this
// binary's and then changes nothing. Never listens.
int run_init(const ControllerConfig& config);

// Copies the database to dest (refused when dest exists unless replace), checked with
// PRAGMA quick_check; a progress line on stderr every few seconds for a big database.
int run_backup(const ControllerConfig& config, const std::string& dest, bool replace);

}  // namespace hostline::controller
