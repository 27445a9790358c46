#include "controller/http/session.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/log/module_logger.hpp"
#include "controller/http/json_views.hpp"
#include "controller/http/websocket_stream.hpp"

static constinit hostline::log::ModuleLogger logger{"http"};

namespace hostline::controller::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using beast::http::field;

constexpr auto kIoTimeout = std::chrono::seconds(30);     // per read or write
constexpr auto kLingerTimeout = std::chrono::seconds(2);  // draining after an error reply
constexpr std::size_t kLingerBytes = std::size_t{1} << 20;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

template <typename Body>
void set_standard_headers(beast::http::response<Body>& response, const std::string& content_type) {
    response.set(field::server, "hostline");
    response.set(field::content_type, content_type);
    response.set(field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("X-Frame-Options", "DENY");
    response.set("Referrer-Policy", "no-referrer");
}

bool is_parse_error(const beast::error_code& ec) {
    static const auto& category =
        beast::http::make_error_code(beast::http::error::bad_method).category();
    return ec.category() == category && ec != beast::http::error::end_of_stream &&
           ec != beast::http::error::partial_message;
}

class Session final : public Exchange,
                      public Connection,
                      public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, std::shared_ptr<ServerState> state)
        : stream_(std::move(socket)), state_(std::move(state)) {
        beast::error_code ec;
        stream_.socket().set_option(tcp::no_delay(true), ec);  // event lines go out at once
        const auto remote = stream_.socket().remote_endpoint(ec);
        peer_ = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    }

    ~Session() override { state_->remove(this); }

    void run() {
        state_->add(this, weak_from_this());
        do_read();
    }

    // Exchange

    void respond(Response response) override {
        if (phase_ != Phase::handling) return;  // the client has gone, or it was answered
        write_response(std::move(response));
    }

    bool start_stream(std::string content_type, std::function<void()> on_client_gone,
                      std::vector<std::pair<std::string, std::string>> headers) override {
        if (phase_ != Phase::handling) return false;
        phase_ = Phase::streaming;
        on_client_gone_ = std::move(on_client_gone);
        beast::http::response<beast::http::empty_body> head{beast::http::status::ok, version_};
        set_standard_headers(head, content_type);
        for (const auto& [name, value] : headers) head.set(name, value);
        // Kept open after the last chunk if the client asked (HTTP/1.1's default): one that
        // follows job after job needs no new connection for each.
        head.keep_alive(keep_alive_);
        head.chunked(true);
        std::ostringstream text;
        text << head.base();
        head_ = std::move(text).str();  // goes out with the first lines
        // The watch read waits as long as the stream lasts; only writes time out. With the
        // read pending, expires_after() applies to the writes alone.
        stream_.expires_never();
        watch();
        schedule_write();
        return true;
    }

    // The socket goes to a WebSocketStream; this session stays the Exchange the route holds
    // and passes the stream's calls on.
    bool start_websocket(std::function<void()> on_client_gone) override {
        if (phase_ != Phase::handling || !upgrade_) return false;
        phase_ = Phase::upgraded;
        state_->remove(this);  // the WebSocket is the connection now, closed by stop()
        websocket_ = accept_websocket(stream_.release_socket(), *upgrade_, state_,
                                      std::move(on_client_gone));
        upgrade_.reset();
        return true;
    }

    void send(std::string data) override {
        if (websocket_) return websocket_->send(data);
        if (phase_ != Phase::streaming || ending_) return;
        pending_ += data;
        schedule_write();
    }

    std::size_t unwritten_bytes() const override {
        if (websocket_) return websocket_->unwritten_bytes();
        return pending_.size() + in_flight_.size();
    }

    void when_written(std::function<void()> then) override {
        if (phase_ != Phase::streaming || ending_ || websocket_) return;
        written_ = std::move(then);
        schedule_write();
    }

    void end_stream(AfterStream after) override {
        if (websocket_) return websocket_->end();
        if (phase_ != Phase::streaming || ending_) return;
        ending_ = true;
        if (after == AfterStream::close) keep_alive_ = false;
        on_client_gone_ = nullptr;
        // What is queued by now is all the stream holds: written at once, with its end.
        if (!writing_) write_next_chunk();
    }

    void abort_stream() override {
        if (websocket_) return websocket_->end();
        if (phase_ == Phase::streaming) close();
    }

    // Connection

    void close() override {
        if (phase_ == Phase::closed) return;
        phase_ = Phase::closed;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.close();  // cancels whatever is pending
        if (auto gone = std::exchange(on_client_gone_, nullptr)) gone();
    }

  private:
    enum class Phase {
        reading,
        handling,
        writing,
        streaming,
        resuming,  // a stream has ended on a kept connection: the watch read is being cancelled
        upgraded,
        draining,
        closed
    };

    void do_read() {
        phase_ = Phase::reading;
        parser_.emplace();
        parser_->header_limit(kHeaderLimit);
        parser_->body_limit(state_->config.max_body_bytes);
        stream_.expires_after(kIoTimeout);
        beast::http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                self->on_read_header(ec);
            });
    }

    void on_read_header(beast::error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec) return on_read_error(ec);
        if (!parser_->is_done() && beast::iequals(parser_->get()[field::expect], "100-continue")) {
            stream_.expires_after(kIoTimeout);
            net::async_write(stream_, net::buffer(kContinue),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 self->on_continue(ec);
                             });
            return;
        }
        read_body();
    }

    void on_continue(beast::error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec) return fail(ec, "write");
        read_body();
    }

    void read_body() {
        stream_.expires_after(kIoTimeout);
        beast::http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec) return on_read_error(ec);
        auto& message = parser_->get();
        version_ = message.version();
        Request request{
            .method = std::string(message.method_string()),
            .target = std::string(message.target()),
            .authorization = std::string(message[field::authorization]),
            .body = std::move(message.body()),
            .websocket_upgrade = beast::websocket::is_upgrade(message),
        };
        // An upgrade answered in HTTP ends the connection: the client's handshake failed.
        keep_alive_ = message.keep_alive() && !request.websocket_upgrade;
        for (const auto& field : message)
            request.headers.emplace_back(std::string(field.name_string()),
                                         std::string(field.value()));
        if (request.websocket_upgrade) upgrade_ = request;
        parser_.reset();
        logger->debug("http {}: {} {}", peer_, request.method, request.target);
        phase_ = Phase::handling;
        state_->router.handle(request, shared_from_this());
    }

    void on_read_error(beast::error_code ec) {
        if (ec == beast::http::error::end_of_stream) return close();  // between requests
        if (ec == beast::http::error::body_limit) {
            return reject(413, "the request body is larger than the limit of " +
                                   std::to_string(state_->config.max_body_bytes) + " bytes");
        }
        if (ec == beast::http::error::header_limit) {
            return reject(431, "the request headers are larger than the limit of 16 KiB");
        }
        if (is_parse_error(ec)) return reject(400, "malformed HTTP request: " + ec.message());
        fail(ec, "read");
    }

    // Answers a request that could not be read, then closes after draining what the client
    // is still sending, so it sees the answer rather than a reset.
    void reject(unsigned status, const std::string& message) {
        logger->debug("http {}: rejected with {}: {}", peer_, status, message);
        version_ = 11;
        keep_alive_ = false;
        linger_ = true;
        write_response(error_response(status, message));
    }

    void write_response(Response response) {
        phase_ = Phase::writing;
        response_.emplace();
        response_->version(version_);
        response_->result(response.status);
        set_standard_headers(*response_, response.content_type);
        for (const auto& [name, value] : response.headers) response_->set(name, value);
        response_->keep_alive(keep_alive_);
        response_->body() = std::move(response.body);
        response_->prepare_payload();
        stream_.expires_after(kIoTimeout);
        beast::http::async_write(
            stream_, *response_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        if (phase_ == Phase::closed) return;
        if (ec) return fail(ec, "write");
        const bool keep_alive = response_->keep_alive();
        response_.reset();
        if (linger_) return drain();
        if (!keep_alive) return close();
        do_read();
    }

    void drain() {
        phase_ = Phase::draining;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.expires_after(kLingerTimeout);
        drain_some();
    }

    void drain_some() {
        stream_.async_read_some(net::buffer(scratch_),
                                [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                    self->on_drain(ec, n);
                                });
    }

    void on_drain(beast::error_code ec, std::size_t bytes) {
        if (phase_ == Phase::closed) return;
        drained_ += bytes;
        if (ec || drained_ > kLingerBytes) return close();
        drain_some();
    }

    // Writes what is queued once the handler running now has returned, so that what one turn
    // of the loop sends goes out in one write: a run's last event, its job's and the end of
    // the stream reach the client together instead of waking it three times.
    void schedule_write() {
        if (writing_ || write_scheduled_) return;
        write_scheduled_ = true;
        net::post(stream_.get_executor(), [self = shared_from_this()] {
            self->write_scheduled_ = false;
            if (self->phase_ == Phase::streaming && !self->writing_) self->write_next_chunk();
        });
    }

    // What is due goes out in one write: the head (with the first lines), the lines queued
    // since the last write as one chunk, and the end of the stream once it ends.
    void write_next_chunk() {
        std::string out = std::exchange(head_, {});
        if (!pending_.empty()) {
            out += beast::buffers_to_string(beast::http::make_chunk(net::buffer(pending_)));
            pending_.clear();
        }
        if (ending_ && !last_chunk_sent_) {
            last_chunk_sent_ = true;
            out += beast::buffers_to_string(beast::http::make_chunk_last());
        }
        if (!out.empty()) {
            in_flight_ = std::move(out);
            writing_ = true;
            stream_.expires_after(kIoTimeout);
            net::async_write(stream_, net::buffer(in_flight_),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                 self->on_stream_write(ec);
                             });
        } else if (ending_) {
            if (!keep_alive_) return close();
            // The next request is read once the watch read is done: one read at a time.
            phase_ = Phase::resuming;
            stream_.cancel();
        } else if (written_) {
            // Everything is written: the producer may go on, after this handler returns.
            net::post(stream_.get_executor(),
                      [self = shared_from_this(), then = std::exchange(written_, nullptr)] {
                          if (self->phase_ == Phase::streaming && !self->ending_) then();
                      });
        }
    }

    void on_stream_write(beast::error_code ec) {
        writing_ = false;
        in_flight_.clear();
        if (phase_ == Phase::closed) return;
        if (ec) return fail(ec, "write");
        write_next_chunk();
    }

    // While streaming, a read tells that the client went away. What a client sends meanwhile
    // is its next request (on a kept connection): kept for it, up to a request's headers;
    // past that, dropped, and the connection ends with the stream.
    void watch() {
        const bool keep = keep_alive_ && buffer_.size() + scratch_.size() <= kHeaderLimit;
        if (!keep) keep_alive_ = false;
        stream_.async_read_some(
            keep ? buffer_.prepare(scratch_.size()) : net::buffer(scratch_),
            [self = shared_from_this(), keep](beast::error_code ec, std::size_t n) {
                if (keep) self->buffer_.commit(n);
                self->on_watch(ec);
            });
    }

    void on_watch(beast::error_code ec) {
        if (phase_ == Phase::resuming) return resume(ec);
        if (phase_ != Phase::streaming) return;
        if (ec) return fail(ec, "read");
        watch();
    }

    // The stream is over and its connection kept: back to reading requests.
    void resume(beast::error_code ec) {
        if (ec && ec != net::error::operation_aborted) return fail(ec, "read");
        head_.clear();
        pending_.clear();
        in_flight_.clear();
        written_ = nullptr;
        ending_ = false;
        last_chunk_sent_ = false;
        do_read();
    }

    void fail(beast::error_code ec, const char* what) {
        if (ec != net::error::operation_aborted) {
            logger->debug("http {}: {}: {}", peer_, what, ec.message());
        }
        close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    const std::shared_ptr<ServerState> state_;
    std::string peer_;
    Phase phase_ = Phase::reading;

    // The request being read and the response being written.
    std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
    std::optional<beast::http::response<beast::http::string_body>> response_;
    unsigned version_ = 11;
    bool keep_alive_ = true;
    bool linger_ = false;
    std::size_t drained_ = 0;
    std::array<char, 4096> scratch_{};  // for watch and drain reads, whose bytes are dropped

    // A streamed response.
    std::function<void()> on_client_gone_;
    std::string head_;               // the response's head, until the first write
    std::string pending_;            // queued by send(), not yet being written
    std::string in_flight_;          // what is being written (head, chunk, end)
    std::function<void()> written_;  // when_written's callback, until the queue is empty
    bool writing_ = false;
    bool write_scheduled_ = false;  // schedule_write() has posted a write_next_chunk()
    bool ending_ = false;
    bool last_chunk_sent_ = false;

    // A WebSocket upgrade: the request, until a route accepts it or answers in HTTP; then
    // the stream the socket went to.
    std::optional<Request> upgrade_;
    std::shared_ptr<MessageStream> websocket_;
};

}  // namespace

void start_session(tcp::socket socket, std::shared_ptr<ServerState> state) {
    std::make_shared<Session>(std::move(socket), std::move(state))->run();
}

}  // namespace hostline::controller::http
