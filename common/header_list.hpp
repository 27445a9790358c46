// HTTP headers as a list of name/value pairs in the order sent, for code that reads a request's
// headers without the HTTP library (webhooks, the chat platforms' calls). Names compare
// case-insensitively, as HTTP says.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostline {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The value of the first header named `name` (case-insensitive); nullopt when absent.
inline std::optional<std::string_view> header_value(const HeaderList& headers,
                                                    std::string_view name) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    for (const auto& [key, value] : headers) {
        if (key.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < key.size() && same; ++i) same = lower(key[i]) == lower(name[i]);
        if (same) return std::string_view(value);
    }
    return std::nullopt;
}

}  // namespace hostline
