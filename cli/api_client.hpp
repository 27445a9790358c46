// ApiClient: a small synchronous HTTP/1.1 client for the controller's REST API (/api/v1).
//
// Plain TCP only (http://). Every call opens its own connection, sends one request with the
// bearer token, and blocks until the answer is complete, fails, or times out. Errors come
// back as values whose message is ready to print after "hostline: ": the controller's own
// message for an API error, or what went wrong on the way there. Not thread-safe: use one
// client per thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"

namespace hostline::cli {

// Where the controller listens, from a URL such as "http://127.0.0.1:7480".
struct ControllerUrl {
    std::string text;       // as given, without a trailing '/': used in messages
    std::string host;       // without brackets for IPv6 literals
    std::string port;       // "80" when the URL has none
    std::string host_port;  // the Host header value, e.g. "127.0.0.1:7480" or "[::1]:7480"
    std::string base_path;  // "" or a prefix such as "/hostline" (no trailing '/')
};

// Accepts http://HOST[:PORT][/PREFIX]. Refuses https (not supported yet), other schemes,
// user info, queries and fragments, and ports outside 1-65535, saying which and why.
Result<ControllerUrl> parse_controller_url(std::string_view url);

// The bearer token and where it came from, for the hint printed with a 401.
struct ApiToken {
    std::string value;
    std::string origin;  // e.g. "/etc/hostline/token (--token-file)"
};

// path + "?k=v&..." with each value percent-encoded; pairs with an empty value are left out.
std::string with_query(std::string path,
                       const std::vector<std::pair<std::string, std::string>>& params);

class ApiClient {
  public:
    ApiClient(ControllerUrl url, ApiToken token);

    // GET base_path + path; the parsed JSON body of a 2xx answer.
    Result<nlohmann::json> get(std::string_view path);

    // Every page of a list sorted by name (GET /api/v1/agents, /api/v1/tokens): GETs path,
    // then path?after=NEXT while the answer's "next_after" names one, and returns the first
    // answer with the `list` arrays of all pages joined (and no next_after).
    Result<nlohmann::json> get_every_page(std::string_view path, const std::string& list);

    // POST base_path + path with a JSON body (none when body is null); the parsed JSON body
    // of a 2xx answer.
    Result<nlohmann::json> post(std::string_view path, const nlohmann::json& body);

    // PUT base_path + path with a JSON body; the parsed JSON body of a 2xx answer.
    Result<nlohmann::json> put(std::string_view path, const nlohmann::json& body);

    enum class StreamEnd {
        finished,     // the controller ended the response
        stopped,      // on_line returned false
        interrupted,  // interrupt_fd became readable
    };

    // GET base_path + path and call on_line for each non-empty line of the body as it
    // arrives (NDJSON), however the lines are cut into chunks; on_line returns false to stop.
    // There is no time limit once the answer has begun. If interrupt_fd is not -1, the
    // stream stops as soon as it becomes readable (the client never reads from it). An
    // error means the request failed or the connection broke; lines delivered before stay
    // delivered.
    Result<StreamEnd> stream_lines(std::string_view path,
                                   const std::function<bool(std::string_view line)>& on_line,
                                   int interrupt_fd = -1);

    // The HTTP status of the answer to the last call; 0 if none came (the controller could
    // not be reached, or the connection broke before the status line). Tells "the
    // controller refused" (4xx) from "the controller could not be asked".
    unsigned last_status() const { return last_status_; }

    // DELETE base_path + path; the parsed JSON body of a 2xx answer.
    Result<nlohmann::json> remove(std::string_view path);

    // The same for a POST with a JSON body (the terminal chat: POST /api/v1/chat).
    Result<StreamEnd> post_stream_lines(std::string_view path, const nlohmann::json& body,
                                        const std::function<bool(std::string_view line)>& on_line,
                                        int interrupt_fd = -1);

    const ControllerUrl& url() const { return url_; }

  private:
    Result<StreamEnd> stream(std::string_view path, std::optional<std::string> body,
                             const std::function<bool(std::string_view line)>& on_line,
                             int interrupt_fd);

    ControllerUrl url_;
    ApiToken token_;
    unsigned last_status_ = 0;
};

}  // namespace hostline::cli
