#include "bench/keep_alive_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>
#include <utility>

namespace hostline::bench {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct KeepAliveClient::Connection {
    boost::asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    bool open = false;
};

KeepAliveClient::KeepAliveClient(const std::string& url, std::string token)
    : connection_(std::make_unique<Connection>()), token_(std::move(token)) {
    const std::string prefix = "http://";
    if (url.rfind(prefix, 0) != 0) throw std::runtime_error("not an http:// URL: " + url);
    const std::string host_port = url.substr(prefix.size());
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("no port in " + url);
    host_ = host_port.substr(0, colon);
    port_ = host_port.substr(colon + 1);
}

KeepAliveClient::~KeepAliveClient() {
    beast::error_code ignored;
    connection_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

Answer KeepAliveClient::get(const std::string& target) {
    // A reused connection may have been closed by the server while idle: one retry on a
    // fresh one. A failure on a fresh connection is real.
    const bool reused = connection_->open;
    try {
        return exchange(false, target, {});
    } catch (const std::runtime_error&) {
        if (!reused) throw;
    }
    return exchange(false, target, {});
}

Answer KeepAliveClient::post(const std::string& target, const std::string& json) {
    return exchange(true, target, json);
}

Answer KeepAliveClient::exchange(bool post, const std::string& target, const std::string& json) {
    Connection& c = *connection_;
    beast::error_code ec;
    if (!c.open) {
        tcp::resolver resolver(c.io);
        auto endpoints = resolver.resolve(host_, port_, ec);
        if (!ec) c.stream.connect(endpoints, ec);
        if (ec)
            throw std::runtime_error("cannot connect to " + host_ + ":" + port_ + ": " +
                                     ec.message());
        c.stream.socket().set_option(tcp::no_delay(true));
        c.buffer.clear();
        c.open = true;
    }
    http::request<http::string_body> request{post ? http::verb::post : http::verb::get, target, 11};
    request.set(http::field::host, host_ + ":" + port_);
    request.set(http::field::authorization, "Bearer " + token_);
    if (post) {
        request.set(http::field::content_type, "application/json");
        request.body() = json;
    }
    request.keep_alive(true);
    request.prepare_payload();
    http::write(c.stream, request, ec);
    http::response<http::string_body> response;
    if (!ec) http::read(c.stream, c.buffer, response, ec);
    if (ec) {
        c.stream.socket().close(ec);
        c.open = false;
        throw std::runtime_error((post ? "POST " : "GET ") + target + ": " + ec.message());
    }
    if (!response.keep_alive()) {
        c.stream.socket().close(ec);
        c.open = false;
    }
    const std::size_t bytes = response.body().size();
    return Answer{response.result_int(), bytes, std::move(response.body())};
}

}  // namespace hostline::bench
