// How chat/net's error messages state the limits they hit: "30 s", "1500 ms", "8 MiB", so a
// person reading a log sees the setting to change.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace hostline::chat::net {

inline std::string duration_words(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    return std::to_string(d.count()) + " ms";
}

inline std::string size_words(std::size_t bytes) {
    if (bytes != 0 && bytes % (1024 * 1024) == 0)
        return std::to_string(bytes / (1024 * 1024)) + " MiB";
    if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace hostline::chat::net
