// The only file that speaks WebSocket for chat/net. A Link is one connection's whole life:
// connecting -> open -> ended. Handlers hold the Link and do nothing once it has ended, so
// close() and the destructor silence every callback at once.
#include "chat/net/wss_client.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <exception>
#include <iterator>
#include <optional>

#include "chat/net/http_header.hpp"
#include "chat/net/tls_client.hpp"
#include "chat/net/url.hpp"
#include "chat/net/wording.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"chat"};

namespace hostline::chat::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// How long our close frame may wait for the server's.
constexpr std::chrono::seconds kCloseTimeout{5};
constexpr std::size_t kReadPiece = 16 * 1024;

}  // namespace

class WssClient::Link : public std::enable_shared_from_this<Link> {
  public:
    Link(asio::io_context& io, WssOptions options, std::shared_ptr<ssl::context> context)
        : io_(io),
          options_(std::move(options)),
          context_(std::move(context)),
          resolver_(io),
          timer_(io) {}

    void connect(const std::string& url_text, Headers headers, WssHandlers handlers) {
        if (state_ != State::fresh) {
            if (handlers.on_open) {
                asio::post(io_, [done = std::move(handlers.on_open)] {
                    done(fail("wss: this client has already connected once"));
                });
            }
            return;
        }
        handlers_ = std::move(handlers);
        state_ = State::connecting;
        auto url = parse_url(url_text);
        if (!url) return fail_open_soon("wss: " + url.error().message);
        if (url->scheme != "wss")
            return fail_open_soon("wss: '" + url->scheme + "://' is not wss://");
        url_ = std::move(*url);
        label_ = "wss://" + url_.authority() + url_.path();
        for (const auto& [name, value] : headers) {
            if (auto checked = check_header(name, value); !checked)
                return fail_open_soon(label_ + ": " + checked.error().message);
        }
        headers_ = std::move(headers);
        ws_.emplace(io_, *context_);
        timer_.expires_after(options_.connect_timeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->state_ != State::connecting) return;
            self->fail_open("timed out after " + duration_words(self->options_.connect_timeout));
        });
        asio::post(io_, [self = shared_from_this()] {
            if (self->state_ != State::connecting) return;
            self->resolver_.async_resolve(
                self->url_.host, std::to_string(self->url_.port),
                [self](const error_code& ec, const tcp::resolver::results_type& results) {
                    if (self->state_ != State::connecting) return;
                    if (ec)
                        return self->fail_open("cannot resolve " + self->url_.host + ": " +
                                               ec.message());
                    self->on_resolve(results);
                });
        });
    }

    Result<void> send(std::string text) {
        if (state_ != State::open) return fail("wss: the link is not open");
        if (outgoing_.size() >= options_.max_queued_messages)
            return fail("wss: " + std::to_string(outgoing_.size()) + " messages already queued");
        outgoing_.push_back(std::move(text));
        if (!writing_) write_next();
        return {};
    }

    void close() {
        if (state_ == State::open) {
            state_ = State::ended;
            discard_unsent();
            // Bounded: a server that never answers our close frame is cut after kCloseTimeout.
            timer_.expires_after(kCloseTimeout);
            timer_.async_wait([self = shared_from_this()](const error_code& ec) {
                if (!ec) self->drop();
            });
            ws_->async_close(websocket::close_code::normal,
                             [self = shared_from_this()](const error_code&) {
                                 error_code ignored;
                                 self->timer_.cancel(ignored);
                                 self->drop();
                             });
            return;
        }
        state_ = State::ended;
        drop();
    }

    // The destructor: if a close handshake is under way let it finish (it is bounded),
    // otherwise cut the connection.
    void abandon() {
        const bool closing = state_ == State::ended && closing_started();
        state_ = State::ended;
        handlers_ = {};
        if (!closing) drop();
    }

    bool is_open() const { return state_ == State::open; }

  private:
    enum class State { fresh, connecting, open, ended };

    bool closing_started() const { return ws_ && ws_->is_open(); }

    // The message being written stays: the write in progress still reads it.
    void discard_unsent() {
        outgoing_.erase(writing_ ? std::next(outgoing_.begin()) : outgoing_.begin(),
                        outgoing_.end());
    }

    void drop() {
        error_code ignored;
        timer_.cancel(ignored);
        resolver_.cancel();
        if (ws_) beast::get_lowest_layer(*ws_).close(ignored);
    }

    void fail_open_soon(std::string message) {
        state_ = State::ended;
        if (!handlers_.on_open) return;
        asio::post(io_, [done = std::move(handlers_.on_open), message = std::move(message)] {
            done(fail(message));
        });
    }

    void fail_open(const std::string& reason) {
        state_ = State::ended;
        drop();
        logger->debug("wss: {}: {}", label_, reason);
        auto done = std::move(handlers_.on_open);
        if (done) done(fail(label_ + ": " + reason));
    }

    void on_resolve(const tcp::resolver::results_type& results) {
        asio::async_connect(
            beast::get_lowest_layer(*ws_), results,
            [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
                if (self->state_ != State::connecting) return;
                if (ec) return self->fail_open(ec.message());
                self->on_connect();
            });
    }

    void on_connect() {
        auto& tls = ws_->next_layer();
        if (auto expected = expect_peer(tls.native_handle(), url_.host); !expected)
            return fail_open(expected.error().message);
        tls.async_handshake(
            ssl::stream_base::client, [self = shared_from_this()](const error_code& ec) {
                if (self->state_ != State::connecting) return;
                if (ec)
                    return self->fail_open(
                        describe_tls_error(ec, self->ws_->next_layer().native_handle()));
                self->on_tls();
            });
    }

    void on_tls() {
        ws_->set_option(websocket::stream_base::decorator(
            [headers = headers_](websocket::request_type& request) {
                request.set(beast::http::field::user_agent,
                            std::string("hostline/") + HOSTLINE_VERSION);
                for (const auto& [name, value] : headers) request.set(name, value);
            }));
        // No limit in Beast: over its limit Beast 1.74 closes with 1009 but may then report
        // the TLS teardown's error instead of message_too_big. We count ourselves (read()).
        ws_->read_message_max(0);
        const std::string host = url_.port == 443 ? url_.host : url_.authority();
        ws_->async_handshake(upgrade_reply_, host, url_.target,
                             [self = shared_from_this()](const error_code& ec) {
                                 if (self->state_ != State::connecting) return;
                                 if (ec) return self->on_upgrade_refused(ec);
                                 self->on_open();
                             });
    }

    void on_upgrade_refused(const error_code& ec) {
        if (upgrade_reply_.result_int() != 0 && upgrade_reply_.result_int() != 101) {
            return fail_open("the server answered " + std::to_string(upgrade_reply_.result_int()) +
                             " instead of upgrading to WebSocket");
        }
        fail_open("WebSocket upgrade failed: " + ec.message());
    }

    void on_open() {
        error_code ignored;
        timer_.cancel(ignored);
        state_ = State::open;
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = kCloseTimeout;
        timeouts.idle_timeout = options_.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_->set_option(timeouts);
        logger->debug("wss: {} open", label_);
        auto done = handlers_.on_open;
        if (done) done(Result<void>{});
        if (state_ == State::open) read();
    }

    // A message in pieces of at most kReadPiece bytes, so that one over the limit is refused
    // with no more than the limit plus a piece in memory.
    void read() {
        ws_->async_read_some(buffer_, kReadPiece,
                             [self = shared_from_this()](const error_code& ec, std::size_t) {
                                 if (self->state_ != State::open) return;
                                 if (ec) return self->on_link_lost(ec);
                                 if (self->buffer_.size() > self->options_.max_message_bytes)
                                     return self->refuse_oversized();
                                 if (!self->ws_->is_message_done()) return self->read();
                                 self->on_read();
                             });
    }

    void refuse_oversized() {
        buffer_.consume(buffer_.size());
        const WssClosed closed{
            static_cast<int>(websocket::close_code::too_big),
            "a message over the " + size_words(options_.max_message_bytes) + " limit"};
        state_ = State::ended;
        discard_unsent();
        timer_.expires_after(kCloseTimeout);
        timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->drop();
        });
        ws_->async_close(websocket::close_reason(websocket::close_code::too_big),
                         [self = shared_from_this()](const error_code&) {
                             error_code ignored;
                             self->timer_.cancel(ignored);
                             self->drop();
                         });
        report_closed(closed);
    }

    void on_read() {
        if (!ws_->got_text()) {
            logger->debug("wss: {}: ignoring a binary message", label_);
        } else if (handlers_.on_message) {
            auto text = beast::buffers_to_string(buffer_.data());
            buffer_.consume(buffer_.size());
            handlers_.on_message(text);
            // on_message may have closed the link or destroyed the client.
            if (state_ != State::open) return;
        }
        buffer_.consume(buffer_.size());
        read();
    }

    void on_link_lost(const error_code& ec) {
        WssClosed closed;
        if (ec == websocket::error::closed) {
            closed.code = static_cast<int>(ws_->reason().code);
            closed.reason = std::string(ws_->reason().reason.c_str());
            if (closed.reason.empty()) closed.reason = "closed by the server";
        } else if (ec == beast::error::timeout) {
            closed.reason = "nothing received for " + duration_words(options_.idle_timeout) +
                            ", not even an answer to a ping: the link is dead";
        } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated ||
                   ec == asio::error::connection_reset) {
            closed.reason = "the connection was dropped without a close frame";
        } else {
            closed.reason = describe_tls_error(ec, ws_->next_layer().native_handle());
        }
        state_ = State::ended;
        drop();
        report_closed(closed);
    }

    void report_closed(const WssClosed& closed) {
        logger->info("wss: {} closed: {}{}", label_,
                     closed.code ? std::to_string(closed.code) + " " : std::string(),
                     closed.reason);
        auto done = std::move(handlers_.on_closed);
        handlers_ = {};
        if (done) done(closed);
    }

    void write_next() {
        writing_ = true;
        ws_->text(true);
        ws_->async_write(asio::buffer(outgoing_.front()),
                         [self = shared_from_this()](const error_code& ec, std::size_t) {
                             self->writing_ = false;
                             if (self->state_ != State::open) return;
                             // A failed write is seen by the read as well; report it once there.
                             if (ec) return;
                             self->outgoing_.pop_front();
                             if (!self->outgoing_.empty()) self->write_next();
                         });
    }

    asio::io_context& io_;
    const WssOptions options_;
    const std::shared_ptr<ssl::context> context_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;  // the connect timeout, then the close timeout
    std::optional<websocket::stream<ssl::stream<tcp::socket>>> ws_;
    websocket::response_type upgrade_reply_;
    beast::flat_buffer buffer_;
    Url url_;
    std::string label_;  // "wss://host:port/path": no query, Slack puts a ticket there
    Headers headers_;
    WssHandlers handlers_;
    State state_ = State::fresh;
    std::deque<std::string> outgoing_;
    bool writing_ = false;
};

Result<std::unique_ptr<WssClient>> WssClient::create(asio::io_context& io, WssOptions options) {
    if (options.connect_timeout.count() <= 0 || options.idle_timeout.count() <= 0)
        return fail("wss: connect_timeout and idle_timeout must be positive");
    if (options.max_message_bytes == 0) return fail("wss: max_message_bytes must be more than 0");
    auto context = make_client_context(options.tls);
    if (!context) return fail("wss: " + context.error().message);
    auto link = std::make_shared<Link>(io, std::move(options), std::move(*context));
    return std::unique_ptr<WssClient>(new WssClient(std::move(link)));
}

WssClient::WssClient(std::shared_ptr<Link> link) : link_(std::move(link)) {}

WssClient::~WssClient() {
    link_->abandon();
}

void WssClient::connect(const std::string& url, Headers headers, WssHandlers handlers) {
    link_->connect(url, std::move(headers), std::move(handlers));
}

Result<void> WssClient::send(std::string text) {
    return link_->send(std::move(text));
}

void WssClient::close() {
    link_->close();
}

bool WssClient::is_open() const {
    return link_->is_open();
}

}  // namespace hostline::chat::net
