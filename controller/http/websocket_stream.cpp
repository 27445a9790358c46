#include "controller/http/websocket_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"http"};

namespace hostline::controller::http {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

// Clients have nothing to say on an event stream; what they send is read only to see pings
// and the close, so a small bound keeps a hostile client from costing memory.
constexpr std::size_t kMaxClientMessage = std::size_t{4} * 1024;
// Per message written, as the chunked stream's per-write timeout in session.cpp: a client
// that takes longer to accept one message is gone. (Beast's own idle timeout only watches
// reads.)
constexpr auto kWriteTimeout = std::chrono::seconds(30);

class WebSocketStream final : public MessageStream,
                              public Connection,
                              public std::enable_shared_from_this<WebSocketStream> {
  public:
    WebSocketStream(tcp::socket socket, std::shared_ptr<ServerState> state,
                    std::function<void()> on_client_gone)
        : ws_(std::move(socket)),
          write_timer_(ws_.get_executor()),
          state_(std::move(state)),
          on_client_gone_(std::move(on_client_gone)) {
        beast::error_code ec;
        const auto remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
        peer_ = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    }

    ~WebSocketStream() override { state_->remove(this); }

    void run(const Request& upgrade) {
        state_->add(this, weak_from_this());
        // Beast's timeouts replace the TCP stream's: 30 s for the opening and closing
        // handshakes, and a ping after 150 s of silence from the client, which is dropped if
        // that goes unanswered as long again.
        beast::get_lowest_layer(ws_).expires_never();
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& response) { response.set("Server", "hostline"); }));
        ws_.read_message_max(kMaxClientMessage);
        ws_.auto_fragment(false);  // an event is one frame: simpler for clients to follow
        ws_.text(true);

        upgrade_.method_string(upgrade.method);
        upgrade_.target(upgrade.target);
        upgrade_.version(11);
        for (const auto& [name, value] : upgrade.headers) upgrade_.insert(name, value);
        // Bytes the client sent after its handshake request, before our 101, are lost with
        // the Session's buffer; a client may not send frames before the 101.
        ws_.async_accept(
            upgrade_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
    }

    // MessageStream

    void send(std::string_view lines) override {
        if (closed_ || ending_) return;
        while (!lines.empty()) {
            const auto end = std::min(lines.find('\n'), lines.size());
            if (end > 0) {
                queue_.emplace_back(lines.substr(0, end));
                unwritten_ += end;
            }
            lines.remove_prefix(std::min(end + 1, lines.size()));
        }
        write_next();
    }

    std::size_t unwritten_bytes() const override { return unwritten_; }

    void end() override {
        if (closed_ || ending_) return;
        ending_ = true;
        on_client_gone_ = nullptr;
        write_next();
    }

    // Connection

    void close() override {
        if (closed_) return;
        closed_ = true;
        write_timer_.cancel();
        auto& stream = beast::get_lowest_layer(ws_);
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream.close();  // cancels whatever is pending
        if (auto gone = std::exchange(on_client_gone_, nullptr)) gone();
    }

  private:
    void on_accept(beast::error_code ec) {
        if (closed_) return;
        if (ec) return fail(ec, "handshake");
        open_ = true;
        do_read();
        write_next();
    }

    // Keeps a read pending for the stream's life: it answers pings, sees the client's close
    // and notices when the connection drops. Messages are dropped.
    void do_read() {
        ws_.async_read(incoming_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (closed_) return;
        // A message over the limit: Beast has already sent a close frame with 1009 (too big).
        if (ec) return fail(ec, "read");
        incoming_.consume(incoming_.size());
        do_read();
    }

    void write_next() {
        if (!open_ || writing_ || closed_) return;
        if (!queue_.empty()) {
            start_write_timer();
            ws_.async_write(net::buffer(queue_.front()),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                self->on_write(ec);
                            });
        } else if (ending_ && !close_sent_) {
            close_sent_ = true;
            start_write_timer();
            ws_.async_close(
                websocket::close_code::normal,
                [self = shared_from_this()](beast::error_code ec) { self->on_close_sent(ec); });
        }
    }

    void on_write(beast::error_code ec) {
        stop_write_timer();
        if (closed_) return;
        if (ec) return fail(ec, "write");
        unwritten_ -= queue_.front().size();
        queue_.pop_front();
        write_next();
    }

    // The close handshake is over (Beast has torn the connection down) or it failed.
    void on_close_sent(beast::error_code ec) {
        stop_write_timer();
        if (ec && ec != net::error::operation_aborted) {
            logger->debug("websocket {}: close: {}", peer_, ec.message());
        }
        close();
    }

    void start_write_timer() {
        writing_ = true;
        write_timer_.expires_after(kWriteTimeout);
        // A wait that had already expired when the write finished still completes without
        // an error: the write it was timing must be the one in progress.
        write_timer_.async_wait(
            [self = shared_from_this(), write = ++writes_started_](beast::error_code ec) {
                if (!ec && self->writing_ && self->writes_started_ == write) {
                    self->fail(net::error::timed_out, "write");
                }
            });
    }

    void stop_write_timer() {
        writing_ = false;
        write_timer_.cancel();
    }

    void fail(beast::error_code ec, const char* what) {
        if (ec != net::error::operation_aborted && ec != websocket::error::closed) {
            logger->debug("websocket {}: {}: {}", peer_, what, ec.message());
        }
        close();
    }

    websocket::stream<beast::tcp_stream> ws_;
    net::steady_timer write_timer_;
    const std::shared_ptr<ServerState> state_;
    std::function<void()> on_client_gone_;
    std::string peer_;
    beast::http::request<beast::http::empty_body> upgrade_;  // read by async_accept
    beast::flat_buffer incoming_;
    std::deque<std::string> queue_;  // messages not yet written; the front one is being written
    std::size_t unwritten_ = 0;      // bytes in queue_
    bool open_ = false;              // the handshake is done
    bool writing_ = false;
    std::uint64_t writes_started_ = 0;
    bool ending_ = false;
    bool close_sent_ = false;
    bool closed_ = false;
};

}  // namespace

std::shared_ptr<MessageStream> accept_websocket(tcp::socket socket, const Request& upgrade,
                                                std::shared_ptr<ServerState> state,
                                                std::function<void()> on_client_gone) {
    auto stream = std::make_shared<WebSocketStream>(std::move(socket), std::move(state),
                                                    std::move(on_client_gone));
    stream->run(upgrade);
    return stream;
}

}  // namespace hostline::controller::http
