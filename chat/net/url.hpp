// The URLs chat/net connects to: https:// for requests, wss:// for WebSocket links.
// Plain http:// and ws:// are refused: every platform and every test fake speaks TLS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::net {

struct Url {
    std::string scheme;  // "https" or "wss", lower case
    std::string host;    // a DNS name or an IP address (IPv6 without its brackets)
    std::uint16_t port = 443;
    std::string target;  // path and query as sent in the request line; "/" when empty

    // "host:port", the key under which connections are pooled.
    std::string authority() const;
    // The target without its query: what log lines and error messages show, since a query
    // may carry a ticket or a token.
    std::string path() const;
};

// Error: not https:// or wss://, no host, a bad port, user info ("user:pass@"), a fragment,
// spaces or control characters.
Result<Url> parse_url(std::string_view text);

}  // namespace hostline::chat::net
