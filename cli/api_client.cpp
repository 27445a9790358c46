// The only CLI file that includes Beast: every HTTP exchange runs on a private io_context
// driven from the calling thread, so the API stays synchronous while reads can time out and
// a stream can be interrupted.
#include "cli/api_client.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "cli/line_splitter.hpp"

namespace hostline::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kAnswerTimeout = std::chrono::seconds(60);
// Limits that only a broken controller reaches; they keep the CLI's memory bounded.
constexpr std::uint64_t kMaxBody = std::uint64_t{1} << 30;
constexpr std::size_t kMaxLine = std::size_t{64} << 20;

Error bad_url(std::string_view url, const std::string& why) {
    return fail("controller URL '" + std::string(url) + "': " + why);
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

// Why a request failed, worded for a person; `connected` says whether it got that far.
Error transport_error(const ControllerUrl& url, const beast::error_code& ec, bool connected) {
    if (!connected)
        return fail("cannot reach the controller at " + url.text + ": " + ec.message() +
                    " (is it running? set --controller or HOSTLINE_CONTROLLER)");
    if (ec == beast::error::timeout)
        return fail("the controller at " + url.text + " did not answer in time");
    return fail("lost the connection to the controller at " + url.text + ": " + ec.message());
}

// The error for a non-2xx answer: the controller's own message when the body has one.
Error api_error(const ControllerUrl& url, const ApiToken& token, unsigned status,
                beast::string_view reason, const std::string& body) {
    std::string message;
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
        const auto& error = doc["error"];
        if (error.contains("message") && error["message"].is_string())
            message = error["message"].get<std::string>();
    }
    if (message.empty())
        message = "the controller at " + url.text + " answered " + std::to_string(status) + " " +
                  std::string(reason);
    if (status == 401)
        message += " (the token was read from " + token.origin +
                   "; set the token file with --token-file or HOSTLINE_TOKEN_FILE)";
    return fail(std::move(message));
}

Result<nlohmann::json> parse_body(const ControllerUrl& url, const std::string& body) {
    if (body.empty()) return nlohmann::json();
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
        return fail("the controller at " + url.text + " sent an answer that is not valid JSON");
    return doc;
}

// One request on its own connection. The stream, the parser state and any interrupt watch
// live on io_, which only the calling thread runs.
class Exchange {
  public:
    // status receives the HTTP status once the answer's header has been read.
    Exchange(const ControllerUrl& url, const ApiToken& token, unsigned& status, int interrupt_fd)
        : url_(url), token_(token), status_(status), stream_(io_), interrupt_(io_) {
        status_ = 0;
        if (interrupt_fd == -1) return;
        beast::error_code ec;
        interrupt_.assign(interrupt_fd, ec);
        if (ec) return;  // a descriptor that cannot be watched cannot interrupt either
        interrupt_.async_wait(net::posix::stream_descriptor::wait_read,
                              [this](const beast::error_code& wait_error) {
                                  if (wait_error) return;
                                  interrupted_ = true;
                                  stream_.cancel();
                              });
    }

    ~Exchange() {
        // The descriptor belongs to the caller: stop watching it without closing it.
        if (interrupt_.is_open()) {
            beast::error_code ignored;
            interrupt_.cancel(ignored);
            interrupt_.release();
        }
    }

    Exchange(const Exchange&) = delete;
    Exchange& operator=(const Exchange&) = delete;

    bool interrupted() const { return interrupted_; }

    Result<void> connect() {
        tcp::resolver resolver(io_);
        beast::error_code ec;
        auto endpoints = resolver.resolve(url_.host, url_.port, ec);
        if (ec) return transport_error(url_, ec, false);
        stream_.expires_after(kConnectTimeout);
        ec = await([&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
        if (ec) return transport_error(url_, ec, false);
        return {};
    }

    Result<void> send(http::verb method, std::string_view path, std::string body) {
        http::request<http::string_body> request{method, url_.base_path + std::string(path), 11};
        request.set(http::field::host, url_.host_port);
        request.set(http::field::user_agent, "hostline/" HOSTLINE_VERSION);
        request.set(http::field::authorization, "Bearer " + token_.value);
        request.set(http::field::accept, "application/json");
        request.keep_alive(false);
        if (!body.empty()) {
            request.set(http::field::content_type, "application/json");
            request.body() = std::move(body);
        }
        request.prepare_payload();
        stream_.expires_after(kAnswerTimeout);
        auto ec =
            await([&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
        if (ec) return transport_error(url_, ec, true);
        return {};
    }

    // Reads a whole answer and returns its JSON body, or the API error it carries.
    Result<nlohmann::json> read_json() {
        http::response_parser<http::string_body> parser;
        parser.body_limit(kMaxBody);
        stream_.expires_after(kAnswerTimeout);
        auto ec = await(
            [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
        if (ec) return transport_error(url_, ec, true);
        const auto& response = parser.get();
        status_ = response.result_int();
        if (response.result_int() / 100 != 2)
            return api_error(url_, token_, response.result_int(), response.reason(),
                             response.body());
        return parse_body(url_, response.body());
    }

    // Reads an answer piece by piece, passing each 2xx body piece to on_data as soon as it
    // arrives; on_data returns false to stop.
    template <typename OnData>
    Result<ApiClient::StreamEnd> read_pieces(OnData&& on_data) {
        using End = ApiClient::StreamEnd;
        http::response_parser<http::buffer_body> parser;
        // A stream has no end in sight. (Not boost::none: Beast 1.74 then refuses any body
        // with a Content-Length.)
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        stream_.expires_after(kAnswerTimeout);
        auto ec = await([&](auto handler) {
            http::async_read_header(stream_, buffer_, parser, std::move(handler));
        });
        if (interrupted_) return End::interrupted;
        if (ec) return transport_error(url_, ec, true);

        const unsigned status = parser.get().result_int();
        status_ = status;
        const bool ok = status / 100 == 2;
        std::string error_body;
        if (ok) stream_.expires_never();
        std::array<char, 16 * 1024> piece;
        while (!parser.is_done()) {
            parser.get().body().data = piece.data();
            parser.get().body().size = piece.size();
            ec = await([&](auto handler) {
                http::async_read_some(stream_, buffer_, parser, std::move(handler));
            });
            if (interrupted_) return End::interrupted;
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return transport_error(url_, ec, true);
            std::string_view data(piece.data(), piece.size() - parser.get().body().size);
            if (!ok) {
                if (error_body.size() < kMaxLine) error_body.append(data);
            } else if (!data.empty() && !on_data(data)) {
                return End::stopped;
            }
        }
        if (!ok) return api_error(url_, token_, status, parser.get().reason(), error_body);
        return End::finished;
    }

  private:
    // Starts one asynchronous operation and runs io_ until it completes; returns its error.
    template <typename Start>
    beast::error_code await(Start&& start) {
        if (interrupted_) return net::error::operation_aborted;
        bool done = false;
        beast::error_code result;
        start([&done, &result](const beast::error_code& ec, auto&&...) {
            done = true;
            result = ec;
        });
        io_.restart();
        while (!done && io_.run_one() != 0) {
        }
        return done ? result : beast::error_code(net::error::operation_aborted);
    }

    const ControllerUrl& url_;
    const ApiToken& token_;
    unsigned& status_;
    net::io_context io_;  // before the I/O objects: destroyed after them
    beast::tcp_stream stream_;
    net::posix::stream_descriptor interrupt_;
    beast::flat_buffer buffer_;
    bool interrupted_ = false;
};

Result<nlohmann::json> exchange_json(const ControllerUrl& url, const ApiToken& token,
                                     unsigned& status, http::verb method, std::string_view path,
                                     std::string body) {
    Exchange exchange(url, token, status, -1);
    if (auto connected = exchange.connect(); !connected) return connected.error();
    if (auto sent = exchange.send(method, path, std::move(body)); !sent) return sent.error();
    return exchange.read_json();
}

}  // namespace

Result<ControllerUrl> parse_controller_url(std::string_view url) {
    if (starts_with_nocase(url, "https://"))
        return fail(
            "https is not supported yet; put the controller behind an SSH tunnel "
            "(ssh -L 7480:127.0.0.1:7480 HOST) or use http on loopback");
    if (!starts_with_nocase(url, "http://")) {
        if (url.find("://") != std::string_view::npos)
            return bad_url(url, "only http:// is supported");
        return bad_url(url, "must start with http://, e.g. http://127.0.0.1:7480");
    }
    std::string_view rest = url.substr(7);
    if (rest.find_first_of("?#") != std::string_view::npos)
        return bad_url(url, "must not have a query or a fragment");

    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    if (authority.find('@') != std::string_view::npos)
        return bad_url(url, "must not contain a user name or password; use --token-file");

    ControllerUrl result;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) return bad_url(url, "unclosed '[' in the host");
        result.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return bad_url(url, "unexpected text after ']'");
            port = after.substr(1);
            if (port.empty()) return bad_url(url, "empty port after ':'");
        }
    } else {
        const std::size_t colon = authority.find(':');
        result.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = authority.substr(colon + 1);
            if (port.empty()) return bad_url(url, "empty port after ':'");
            if (port.find(':') != std::string_view::npos)
                return bad_url(url, "put an IPv6 address in brackets, e.g. http://[::1]:7480");
        }
    }
    if (result.host.empty()) return bad_url(url, "no host");

    if (port.empty()) {
        result.port = "80";
    } else {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            return bad_url(url, "port '" + std::string(port) + "' is not a number from 1 to 65535");
        result.port = std::to_string(value);
    }
    result.host_port = std::string(authority);
    result.base_path = std::string(path);
    result.text = "http://" + result.host_port + result.base_path;
    return result;
}

std::string with_query(std::string path,
                       const std::vector<std::pair<std::string, std::string>>& params) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    char separator = '?';
    for (const auto& [key, value] : params) {
        if (value.empty()) continue;
        path += separator;
        separator = '&';
        path += key;
        path += '=';
        for (unsigned char c : value) {
            const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                    c == '~';
            if (unreserved) {
                path += static_cast<char>(c);
            } else {
                path += '%';
                path += kHex[c >> 4];
                path += kHex[c & 0xF];
            }
        }
    }
    return path;
}

ApiClient::ApiClient(ControllerUrl url, ApiToken token)
    : url_(std::move(url)), token_(std::move(token)) {}

Result<nlohmann::json> ApiClient::get(std::string_view path) {
    return exchange_json(url_, token_, last_status_, http::verb::get, path, {});
}

Result<nlohmann::json> ApiClient::get_every_page(std::string_view path, const std::string& list) {
    auto first = get(path);
    if (!first) return first;
    nlohmann::json next = first->value("next_after", nlohmann::json());
    while (next.is_string()) {
        auto page = get(with_query(std::string(path), {{"after", next.get<std::string>()}}));
        if (!page) return page;
        const auto items = page->find(list);
        if (items == page->end() || !items->is_array() || items->empty()) break;
        for (auto& item : *items) (*first)[list].push_back(std::move(item));
        next = page->value("next_after", nlohmann::json());
    }
    first->erase("next_after");
    return first;
}

Result<nlohmann::json> ApiClient::post(std::string_view path, const nlohmann::json& body) {
    std::string text;
    if (!body.is_null()) text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return exchange_json(url_, token_, last_status_, http::verb::post, path, std::move(text));
}

Result<nlohmann::json> ApiClient::put(std::string_view path, const nlohmann::json& body) {
    return exchange_json(url_, token_, last_status_, http::verb::put, path,
                         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<nlohmann::json> ApiClient::remove(std::string_view path) {
    return exchange_json(url_, token_, last_status_, http::verb::delete_, path, {});
}

Result<ApiClient::StreamEnd> ApiClient::stream_lines(
    std::string_view path, const std::function<bool(std::string_view line)>& on_line,
    int interrupt_fd) {
    return stream(path, std::nullopt, on_line, interrupt_fd);
}

Result<ApiClient::StreamEnd> ApiClient::post_stream_lines(
    std::string_view path, const nlohmann::json& body,
    const std::function<bool(std::string_view line)>& on_line, int interrupt_fd) {
    return stream(path, body.dump(), on_line, interrupt_fd);
}

Result<ApiClient::StreamEnd> ApiClient::stream(
    std::string_view path, std::optional<std::string> body,
    const std::function<bool(std::string_view line)>& on_line, int interrupt_fd) {
    Exchange exchange(url_, token_, last_status_, interrupt_fd);
    if (auto connected = exchange.connect(); !connected) {
        if (exchange.interrupted()) return StreamEnd::interrupted;
        return connected.error();
    }
    auto sent = body ? exchange.send(http::verb::post, path, std::move(*body))
                     : exchange.send(http::verb::get, path, {});
    if (!sent) {
        if (exchange.interrupted()) return StreamEnd::interrupted;
        return sent.error();
    }

    LineSplitter splitter;
    bool too_long = false;
    auto end = exchange.read_pieces([&](std::string_view data) {
        bool keep_going = true;
        splitter.feed(data, [&](std::string_view line) {
            if (!keep_going) return;  // the caller asked to stop: later lines are unwanted
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (!line.empty()) keep_going = on_line(line);
        });
        if (splitter.pending().size() > kMaxLine) too_long = true;
        return keep_going && !too_long;
    });
    if (too_long) return fail("the controller sent an event line longer than 64 MiB");
    if (!end || *end != StreamEnd::finished) return end;

    // A last line without its '\n' still counts.
    std::string last = splitter.take_pending();
    if (!last.empty() && last.back() == '\r') last.pop_back();
    if (!last.empty() && !on_line(last)) return StreamEnd::stopped;
    return StreamEnd::finished;
}

}  // namespace hostline::cli
