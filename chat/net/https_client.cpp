// The only file that speaks HTTP for chat/net. A Pool owns the idle keep-alive connections
// and the exchanges in flight; every handler holds the Pool and its Exchange, and does
// nothing once the exchange is finished (answered, timed out, or dropped by the destructor).
#include "chat/net/https_client.hpp"

#include <strings.h>
#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "chat/net/http_header.hpp"
#include "chat/net/tls_client.hpp"
#include "chat/net/url.hpp"
#include "chat/net/wording.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"chat"};

namespace hostline::chat::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Response headers beyond this are refused: real APIs send a few KiB (Beast's default, 8 KiB,
// is tight for some CDNs' policy headers).
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

Result<http::verb> parse_method(const std::string& method) {
    static const std::set<std::string> kAllowed = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
    if (!kAllowed.contains(method))
        return fail("method '" + method + "' is not one of GET, POST, PUT, PATCH, DELETE, HEAD");
    return http::string_to_verb(method);
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() && strncasecmp(key.c_str(), name.c_str(), key.size()) == 0)
            return value;
    }
    return "";
}

// One TLS connection to one host:port, used by one exchange at a time.
struct Connection {
    Connection(asio::io_context& io, ssl::context& context, std::string key)
        : stream(io, context), idle_timer(io), key(std::move(key)) {}

    void close() {
        error_code ignored;
        idle_timer.cancel(ignored);
        stream.lowest_layer().close(ignored);
    }

    ssl::stream<tcp::socket> stream;
    beast::flat_buffer buffer;
    asio::steady_timer idle_timer;
    const std::string key;  // host:port
    bool reused = false;    // has carried an earlier exchange
};

// One request from request() to its callback.
struct Exchange {
    Exchange(asio::io_context& io, Url url_in) : url(std::move(url_in)), timer(io), resolver(io) {}

    Url url;
    std::string label;  // "GET https://host:port/path": no query, it may hold a token
    http::request<http::string_body> request;
    std::function<void(Result<HttpResponse>)> done;
    std::chrono::milliseconds timeout{};
    asio::steady_timer timer;
    tcp::resolver resolver;
    std::shared_ptr<Connection> connection;
    std::optional<http::response_parser<http::string_body>> parser;
    bool finished = false;
    bool retried = false;
};

class HttpsClient::Pool : public std::enable_shared_from_this<Pool> {
  public:
    Pool(asio::io_context& io, HttpsClientOptions options, std::shared_ptr<ssl::context> context)
        : io_(io), options_(std::move(options)), context_(std::move(context)) {}

    void request(HttpRequest request, std::function<void(Result<HttpResponse>)> done) {
        auto fail_soon = [this, &done](std::string message) {
            asio::post(io_, [done = std::move(done), message = std::move(message)] {
                if (done) done(fail(std::move(message)));
            });
        };
        auto url = parse_url(request.url);
        if (!url) return fail_soon(url.error().message);
        // Errors from here on name the request; never its query, which may hold a token.
        const std::string label = request.method + " https://" + url->authority() + url->path();
        if (url->scheme != "https")
            return fail_soon(label + ": '" + url->scheme + "://' is not an HTTPS URL");
        auto verb = parse_method(request.method);
        if (!verb) return fail_soon(label + ": " + verb.error().message);
        for (const auto& [name, value] : request.headers) {
            if (auto checked = check_header(name, value); !checked)
                return fail_soon(label + ": " + checked.error().message);
        }
        if (request.timeout.count() <= 0)
            return fail_soon(label + ": the timeout must be positive");

        auto exchange = std::make_shared<Exchange>(io_, std::move(*url));
        exchange->label = label;
        exchange->timeout = request.timeout;
        try {
            auto& req = exchange->request;
            req.version(11);
            req.method(*verb);
            req.target(exchange->url.target);
            req.set(http::field::host,
                    exchange->url.port == 443 ? exchange->url.host : exchange->url.authority());
            req.set(http::field::user_agent, std::string("hostline/") + HOSTLINE_VERSION);
            for (const auto& [name, value] : request.headers) req.set(name, value);
            req.body() = std::move(request.body);
            req.prepare_payload();
            req.keep_alive(true);
        } catch (const std::exception& e) {
            return fail_soon(label + ": cannot build the request: " + e.what());
        }
        exchange->done = std::move(done);
        active_.insert(exchange);
        exchange->timer.expires_after(exchange->timeout);
        exchange->timer.async_wait([self = shared_from_this(), exchange](const error_code& ec) {
            if (ec || exchange->finished) return;
            self->finish(exchange, fail(exchange->label + ": timed out after " +
                                        duration_words(exchange->timeout)));
        });
        // Start from the io_context, so that no callback can run inside request().
        asio::post(io_, [self = shared_from_this(), exchange] {
            if (!exchange->finished) self->start(exchange);
        });
    }

    std::size_t open_connections() const {
        std::size_t n = 0;
        for (const auto& [key, idle] : idle_) n += idle.size();
        for (const auto& exchange : active_) n += exchange->connection ? 1 : 0;
        return n;
    }

    // The client is going away: close everything, drop every callback.
    void shutdown() {
        for (const auto& exchange : active_) {
            exchange->finished = true;
            exchange->done = nullptr;
            abandon(*exchange);
        }
        active_.clear();
        for (auto& [key, idle] : idle_) {
            for (auto& connection : idle) connection->close();
        }
        idle_.clear();
    }

  private:
    void start(const std::shared_ptr<Exchange>& exchange) {
        if (auto idle = take_idle(exchange->url.authority())) {
            exchange->connection = std::move(idle);
            exchange->connection->reused = true;
            return write(exchange);
        }
        connect(exchange);
    }

    std::shared_ptr<Connection> take_idle(const std::string& key) {
        auto it = idle_.find(key);
        if (it == idle_.end() || it->second.empty()) return nullptr;
        auto connection = std::move(it->second.back());
        it->second.pop_back();
        if (it->second.empty()) idle_.erase(it);
        error_code ignored;
        connection->idle_timer.cancel(ignored);
        return connection;
    }

    void connect(const std::shared_ptr<Exchange>& exchange) {
        exchange->connection =
            std::make_shared<Connection>(io_, *context_, exchange->url.authority());
        exchange->resolver.async_resolve(
            exchange->url.host, std::to_string(exchange->url.port),
            [self = shared_from_this(), exchange](const error_code& ec,
                                                  const tcp::resolver::results_type& results) {
                if (exchange->finished) return;
                if (ec)
                    return self->finish(exchange, fail(exchange->label + ": cannot resolve " +
                                                       exchange->url.host + ": " + ec.message()));
                self->on_resolve(exchange, results);
            });
    }

    void on_resolve(const std::shared_ptr<Exchange>& exchange,
                    const tcp::resolver::results_type& results) {
        asio::async_connect(
            exchange->connection->stream.lowest_layer(), results,
            [self = shared_from_this(), exchange](const error_code& ec, const tcp::endpoint&) {
                if (exchange->finished) return;
                if (ec) return self->finish(exchange, fail(exchange->label + ": " + ec.message()));
                self->on_connect(exchange);
            });
    }

    void on_connect(const std::shared_ptr<Exchange>& exchange) {
        auto& stream = exchange->connection->stream;
        if (auto expected = expect_peer(stream.native_handle(), exchange->url.host); !expected)
            return finish(exchange, fail(exchange->label + ": " + expected.error().message));
        stream.async_handshake(
            ssl::stream_base::client, [self = shared_from_this(), exchange](const error_code& ec) {
                if (exchange->finished) return;
                if (ec) {
                    return self->finish(
                        exchange,
                        fail(exchange->label + ": " +
                             describe_tls_error(ec, exchange->connection->stream.native_handle())));
                }
                self->write(exchange);
            });
    }

    void write(const std::shared_ptr<Exchange>& exchange) {
        http::async_write(exchange->connection->stream, exchange->request,
                          [self = shared_from_this(), exchange](const error_code& ec, std::size_t) {
                              if (exchange->finished) return;
                              if (ec) return self->on_failure(exchange, ec, false);
                              self->read(exchange);
                          });
    }

    void read(const std::shared_ptr<Exchange>& exchange) {
        auto& parser = exchange->parser.emplace();
        parser.body_limit(options_.max_body_bytes);
        parser.header_limit(kMaxHeaderBytes);
        if (exchange->request.method() == http::verb::head) parser.skip(true);
        // The header first: Beast 1.74's eager parse (async_read) forgets a Content-Length
        // over body_limit when the body arrives with the header; a header-only read reports it.
        http::async_read_header(
            exchange->connection->stream, exchange->connection->buffer, parser,
            [self = shared_from_this(), exchange](const error_code& ec, std::size_t) {
                if (exchange->finished) return;
                if (ec) return self->on_failure(exchange, ec, true);
                self->read_body(exchange);
            });
    }

    void read_body(const std::shared_ptr<Exchange>& exchange) {
        http::async_read(exchange->connection->stream, exchange->connection->buffer,
                         *exchange->parser,
                         [self = shared_from_this(), exchange](const error_code& ec, std::size_t) {
                             if (exchange->finished) return;
                             if (ec) return self->on_failure(exchange, ec, true);
                             self->on_response(exchange);
                         });
    }

    void on_failure(const std::shared_ptr<Exchange>& exchange, const error_code& ec, bool reading) {
        auto& connection = *exchange->connection;
        const bool nothing_back = !reading || !exchange->parser->got_some();
        if (connection.reused && nothing_back && !exchange->retried) {
            // The server closed this keep-alive connection while it sat idle with us.
            connection.close();
            exchange->retried = true;
            exchange->parser.reset();
            return connect(exchange);
        }
        std::string reason;
        if (ec == http::error::body_limit) {
            reason = "the reply body is over the " + size_words(options_.max_body_bytes) + " limit";
        } else if (ec == http::error::header_limit) {
            reason = "the reply headers are over the " + size_words(kMaxHeaderBytes) + " limit";
        } else if (ec == http::error::end_of_stream || ec == ssl::error::stream_truncated) {
            reason = "the server closed the connection before the reply was complete";
        } else if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
            reason = "malformed reply: " + ec.message();
        } else {
            reason = describe_tls_error(ec, connection.stream.native_handle());
        }
        finish(exchange, fail(exchange->label + ": " + reason));
    }

    void on_response(const std::shared_ptr<Exchange>& exchange) {
        auto message = exchange->parser->release();
        HttpResponse response;
        response.status = static_cast<int>(message.result_int());
        for (const auto& field : message) {
            response.headers.emplace_back(std::string(field.name_string()),
                                          std::string(field.value()));
        }
        response.body = std::move(message.body());
        if (message.keep_alive()) {
            release(std::move(exchange->connection));
        }
        finish(exchange, std::move(response));
    }

    // Back to the idle set, closed after idle_close or when the set for its host is full.
    void release(std::shared_ptr<Connection> connection) {
        auto& idle = idle_[connection->key];
        if (idle.size() >= options_.max_idle_per_host) {
            connection->close();
            return;
        }
        connection->buffer.clear();
        connection->idle_timer.expires_after(options_.idle_close);
        connection->idle_timer.async_wait(
            [self = shared_from_this(),
             weak = std::weak_ptr<Connection>(connection)](const error_code& ec) {
                auto connection = weak.lock();
                if (ec || !connection) return;
                self->forget_idle(connection);
            });
        idle.push_back(std::move(connection));
    }

    void forget_idle(const std::shared_ptr<Connection>& connection) {
        auto it = idle_.find(connection->key);
        if (it == idle_.end()) return;
        auto& idle = it->second;
        idle.erase(std::remove(idle.begin(), idle.end(), connection), idle.end());
        if (idle.empty()) idle_.erase(it);
        connection->close();
    }

    void abandon(Exchange& exchange) {
        error_code ignored;
        exchange.timer.cancel(ignored);
        exchange.resolver.cancel();
        // Closed but kept: an operation still pending on it completes (aborted) later, and
        // the exchange its handler holds keeps the stream and buffer alive until then.
        if (exchange.connection) exchange.connection->close();
    }

    void finish(const std::shared_ptr<Exchange>& exchange, Result<HttpResponse> result) {
        if (exchange->finished) return;
        exchange->finished = true;
        if (!result) logger->debug("https: {}", result.error().message);
        abandon(*exchange);  // a connection still held here is not reusable
        active_.erase(exchange);
        auto done = std::move(exchange->done);
        // Last: done may destroy the client, which only marks what is left as finished.
        if (done) done(std::move(result));
    }

    asio::io_context& io_;
    const HttpsClientOptions options_;
    const std::shared_ptr<ssl::context> context_;
    std::map<std::string, std::vector<std::shared_ptr<Connection>>> idle_;  // by host:port
    std::set<std::shared_ptr<Exchange>> active_;
};

Result<std::unique_ptr<HttpsClient>> HttpsClient::create(asio::io_context& io,
                                                         HttpsClientOptions options) {
    if (options.max_body_bytes == 0) return fail("https: max_body_bytes must be more than 0");
    if (options.idle_close.count() <= 0) return fail("https: idle_close must be positive");
    auto context = make_client_context(options.tls);
    if (!context) return fail("https: " + context.error().message);
    auto pool = std::make_shared<Pool>(io, std::move(options), std::move(*context));
    return std::unique_ptr<HttpsClient>(new HttpsClient(std::move(pool)));
}

HttpsClient::HttpsClient(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

HttpsClient::~HttpsClient() {
    pool_->shutdown();
}

void HttpsClient::request(HttpRequest request, std::function<void(Result<HttpResponse>)> done) {
    pool_->request(std::move(request), std::move(done));
}

std::size_t HttpsClient::open_connections() const {
    return pool_->open_connections();
}

}  // namespace hostline::chat::net
