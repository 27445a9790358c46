// libFuzzer target: a Cookie request header as any client may send it, through
// parse_cookie_header and cookie_values (controller/http/cookie_header.hpp), which read it for
// every /api/ request without a bearer token.
//
// Besides not crashing, the parser must keep its promises for every input:
//   - every name and value is a view into the header itself (nothing copied or invented);
//   - a name is non-empty and holds only token characters; a value only cookie-octets (no
//     space, control, '"', ',', ';' or '\\');
//   - cookie_values over the header finds exactly the values parse_cookie_header pairs with
//     that name, in order.
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "controller/http/cookie_header.hpp"

namespace {

using namespace hostline::controller::http;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "the Cookie parser broke its promise: %s\n", promise);
    std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

bool is_separator_or_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u >= 0x7f ||
           std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos;
}

bool is_cookie_octet(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    const auto pairs = parse_cookie_header(header);
    for (const auto& [name, value] : pairs) {
        if (!inside(name, header) || !inside(value, header)) broken("views into the header");
        if (name.empty()) broken("a name is not empty");
        for (const char c : name)
            if (is_separator_or_control(c)) broken("a name holds token characters only");
        for (const char c : value)
            if (!is_cookie_octet(c)) broken("a value holds cookie-octets only");
    }
    // The first pair's name, looked up: the same values, in the same order.
    if (!pairs.empty()) {
        const auto name = pairs.front().first;
        std::vector<std::string_view> expected;
        for (const auto& [other, value] : pairs)
            if (other == name) expected.push_back(value);
        const auto found = cookie_values({header}, name);
        if (found.size() != expected.size()) broken("cookie_values finds every value of a name");
        for (std::size_t i = 0; i < found.size(); ++i)
            if (found[i].data() != expected[i].data() || found[i] != expected[i])
                broken("cookie_values keeps the order");
    }
    return 0;
}
