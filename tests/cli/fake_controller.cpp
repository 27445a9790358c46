#include "fake_controller.hpp"

#include <deque>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace hostline::cli::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string status_line(int status) {
    return "HTTP/1.1 " + std::to_string(status) + " " +
           std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\n";
}

std::string path_of(const std::string& target) {
    return target.substr(0, target.find('?'));
}

}  // namespace

CannedAnswer json_answer(int status, const nlohmann::json& body) {
    std::string text = body.dump();
    return {{status_line(status) + "Content-Type: application/json\r\nContent-Length: " +
             std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text}};
}

CannedAnswer error_answer(int status, const std::string& code, const std::string& message) {
    return json_answer(status, {{"error", {{"code", code}, {"message", message}}}});
}

CannedAnswer chunked_answer(std::vector<std::string> chunks, bool complete,
                            std::chrono::milliseconds pause, bool hold_open) {
    CannedAnswer answer;
    answer.pause = pause;
    answer.hold_open = hold_open;
    answer.pieces.push_back(status_line(200) +
                            "Content-Type: application/x-ndjson\r\nTransfer-Encoding: "
                            "chunked\r\nConnection: close\r\n\r\n");
    for (const auto& chunk : chunks) {
        std::ostringstream size;
        size << std::hex << chunk.size();
        answer.pieces.push_back(size.str() + "\r\n" + chunk + "\r\n");
    }
    if (complete) answer.pieces.push_back("0\r\n\r\n");
    return answer;
}

std::string ndjson(const std::vector<nlohmann::json>& documents) {
    std::string text;
    for (const auto& document : documents) text += document.dump() + "\n";
    return text;
}

std::string url_nobody_listens_on() {
    net::io_context io;
    tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    acceptor.close();
    return "http://127.0.0.1:" + std::to_string(port);
}

struct FakeController::Impl {
    net::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
    unsigned short port = 0;

    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::map<std::string, std::deque<CannedAnswer>> answers;  // by "METHOD path"
    std::vector<RecordedRequest> requests;

    void accept();
    CannedAnswer answer_for(const http::request<http::string_body>& request);
};

namespace {

// One connection: read one request, write its canned answer piece by piece.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, FakeController::Impl& server)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server) {}

    void start() {
        http::async_read(
            socket_, buffer_, request_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

  private:
    void on_read(beast::error_code ec) {
        if (ec) return;
        answer_ = server_.answer_for(request_);
        write_next();
    }

    void write_next() {
        if (next_ == answer_.pieces.size()) return finish();
        if (next_ == 0 || answer_.pause.count() == 0) return write_piece();
        timer_.expires_after(answer_.pause);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->write_piece();
        });
    }

    void write_piece() {
        net::async_write(socket_, net::buffer(answer_.pieces[next_]),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return;
                             ++self->next_;
                             self->write_next();
                         });
    }

    void finish() {
        if (answer_.hold_open) {
            socket_.async_read_some(
                net::buffer(scratch_),
                [self = shared_from_this()](beast::error_code, std::size_t) { self->close(); });
            return;
        }
        close();
    }

    void close() {
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    tcp::socket socket_;
    net::steady_timer timer_;
    FakeController::Impl& server_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    CannedAnswer answer_;
    std::size_t next_ = 0;
    char scratch_[256];
};

}  // namespace

void FakeController::Impl::accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec) return;
        std::make_shared<Session>(std::move(socket), *this)->start();
        accept();
    });
}

CannedAnswer FakeController::Impl::answer_for(const http::request<http::string_body>& request) {
    RecordedRequest recorded{std::string(request.method_string()), std::string(request.target()),
                             std::string(request[http::field::authorization]), request.body()};
    std::lock_guard lock(mutex);
    const std::string key = recorded.method + " " + path_of(recorded.target);
    requests.push_back(std::move(recorded));
    changed.notify_all();
    auto it = answers.find(key);
    if (it == answers.end() || it->second.empty())
        return error_answer(404, "not_found", "no canned answer for " + key);
    CannedAnswer answer = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return answer;
}

FakeController::FakeController() : impl_(std::make_unique<Impl>()) {
    tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(endpoint.protocol());
    impl_->acceptor.set_option(net::socket_base::reuse_address(true));
    impl_->acceptor.bind(endpoint);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeController::~FakeController() {
    impl_->io.stop();
    impl_->thread.join();
}

std::string FakeController::url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeController::on(const std::string& method, const std::string& path,
                        std::vector<CannedAnswer> answers) {
    std::lock_guard lock(impl_->mutex);
    auto& queue = impl_->answers[method + " " + path];
    queue.assign(answers.begin(), answers.end());
}

void FakeController::on(const std::string& method, const std::string& path, CannedAnswer answer) {
    on(method, path, std::vector<CannedAnswer>{std::move(answer)});
}

std::vector<RecordedRequest> FakeController::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->requests;
}

bool FakeController::wait_for(const std::string& path, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(impl_->mutex);
    return impl_->changed.wait_for(lock, timeout, [&] {
        for (const auto& request : impl_->requests)
            if (path_of(request.target) == path) return true;
        return false;
    });
}

}  // namespace hostline::cli::testing
