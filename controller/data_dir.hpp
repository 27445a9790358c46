// What the controller keeps in its data_dir besides the database: the directory itself and
// the accepted agents' keys directory (0750), the CURVE key pair (keys/, the secret 0600) and
// the admin API token (admin.token, 0600). The controller's start and `hostline-controller
// init` both make what is missing here, the same way.
#pragma once

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/transport/curve_keys.hpp"
#include "controller/config/controller_config.hpp"

namespace hostline::controller {

struct DataDir {
    transport::CurveKeyPair keys;
    std::string admin_token;
    // One line per thing created now ("created the admin token /var/lib/hostline/admin.token
    // (0600)"); empty when everything was there.
    std::vector<std::string> created;
};

// Creates what is missing and loads the keys and the token. Errors: a directory or file
// cannot be created or read, the secret key is readable by others.
Result<DataDir> prepare_data_dir(const ControllerConfig& config);

}  // namespace hostline::controller
