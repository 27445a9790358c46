// The web UI's files: GET / and /ui redirect to /ui/, /ui/ is the page, /ui/NAME its scripts
// and styles (controller/ui/, embedded by cmake/embed_ui.cmake). The files are public: what
// they show comes from /api/v1, which needs a session (docs/web-ui.md).
#include <algorithm>
#include <string>

#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"
#include "controller/http/ui_assets.hpp"

namespace hostline::controller::http {
namespace {

// Scripts and styles come from this server only, and nothing else runs: no inline script, no
// eval, no plugin, no framing. A string from a host that slipped past the UI's escaping still
// could not run.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

Response redirect_to_ui() {
    Response response{.status = 302, .content_type = "text/plain; charset=utf-8", .body = ""};
    response.headers.emplace_back("Location", "/ui/");
    return response;
}

}  // namespace

void Router::serve_ui(const Request& request, std::string_view path,
                      const std::shared_ptr<Exchange>& exchange) {
    if (request.method != "GET" && request.method != "HEAD") {
        auto response = error_response(405, std::string(path) + " allows only GET and HEAD");
        response.headers.emplace_back("Allow", "GET, HEAD");
        return exchange->respond(std::move(response));
    }
    if (path == "/" || path == "/ui") return exchange->respond(redirect_to_ui());
    const std::string_view file = path == "/ui/" ? "/ui/index.html" : path;
    const auto assets = ui_assets();
    const auto asset = std::find_if(assets.begin(), assets.end(),
                                    [&](const UiAsset& a) { return a.path == file; });
    if (asset == assets.end())
        return exchange->respond(error_response(404, "there is no " + std::string(path)));
    Response response{.content_type = std::string(asset->content_type),
                      .body = request.method == "HEAD" ? "" : std::string(asset->body)};
    response.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
    exchange->respond(std::move(response));
}

}  // namespace hostline::controller::http
