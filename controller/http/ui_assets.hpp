// The web UI's files (controller/ui/), built into the binary by cmake/embed_ui.cmake so the
// controller serves its own UI with nothing to install beside it.
#pragma once

#include <span>
#include <string_view>

namespace hostline::controller::http {

struct UiAsset {
    std::string_view path;          // "/ui/app.js"
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view body;
};

// Every asset, in the order of controller/CMakeLists.txt's list. Defined in the generated
// ui_assets.cpp.
std::span<const UiAsset> ui_assets();

}  // namespace hostline::controller::http
