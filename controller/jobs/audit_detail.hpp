// Values written into AuditEvent::detail that are not plain strings. Pure; any thread.
#pragma once

#include <string>
#include <vector>

namespace hostline::controller {

// argv exactly, as a JSON array of strings: ["systemctl","restart","nginx"]. Bytes that are
// not printable ASCII are escaped as \u00XX, so the text is valid whatever argv holds.
std::string audit_argv(const std::vector<std::string>& argv);

}  // namespace hostline::controller
