// How chat/net verifies the servers it talks to. Plain values, no Asio: included by the
// adapters' headers and their configuration.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hostline::chat::net {

struct TlsOptions {
    // A PEM bundle of the CAs to trust; empty: the system's store. Whichever is used, the
    // certificate chain and the host name (or IP address) are always verified.
    std::string ca_file;
};

// Extra request headers, in order. Values may be secrets (Authorization): chat/net never
// logs them and never puts them in an error message.
using Headers = std::vector<std::pair<std::string, std::string>>;

}  // namespace hostline::chat::net
