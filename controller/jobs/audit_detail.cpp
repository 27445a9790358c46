#include "controller/jobs/audit_detail.hpp"

#include <cstdio>

namespace hostline::controller {

std::string audit_argv(const std::vector<std::string>& argv) {
    std::string out = "[";
    for (const auto& arg : argv) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char c : arg) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (byte < 0x20 || byte >= 0x7f) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
                out += escaped;
            } else {
                out += c;
            }
        }
        out += '"';
    }
    return out + "]";
}

}  // namespace hostline::controller
