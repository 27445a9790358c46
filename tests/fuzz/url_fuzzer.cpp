// libFuzzer target: a URL as a platform hands it to us (Slack's apps.connections.open answers
// with the wss:// URL to connect to), through parse_url (chat/net/url.hpp).
//
// Besides not crashing, the parser must keep its promises for every input:
//   - a URL it accepts is https or wss, has a host, a port from 1 to 65535 and a target that
//     starts with '/', none of them holding a space or a control character;
//   - printing it back (scheme://authority target) and parsing that gives the same URL.
// (That an error never quotes the query is a unit test, tests/chat/net/url_test.cpp: as a
// promise over any bytes it would trip on queries that happen to spell the message's words.)
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/net/url.hpp"

namespace {

using hostline::chat::net::parse_url;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "parse_url broke its promise: %s\n", promise);
    std::abort();
}

bool clean(std::string_view s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto url = parse_url(text);
    if (!url) return 0;
    if (url->scheme != "https" && url->scheme != "wss") broken("the scheme is https or wss");
    if (url->host.empty() || !clean(url->host)) broken("a host, without spaces or controls");
    if (url->port == 0) broken("a port from 1 to 65535");
    if (url->target.empty() || url->target.front() != '/' || !clean(url->target))
        broken("a target that starts with '/', without spaces or controls");
    const std::string printed = url->scheme + "://" + url->authority() + url->target;
    auto again = parse_url(printed);
    if (!again) broken("a printed URL parses again");
    if (again->scheme != url->scheme || again->host != url->host || again->port != url->port ||
        again->target != url->target)
        broken("a printed URL parses to the same URL");
    return 0;
}
