#include "controller/http/listener.hpp"

#include <chrono>

#include "common/log/module_logger.hpp"
#include "controller/http/session.hpp"

static constinit hostline::log::ModuleLogger logger{"http"};

namespace hostline::controller::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

bool out_of_resources(const boost::system::error_code& ec) {
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
           ec == net::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

Result<std::shared_ptr<Listener>> Listener::open(net::io_context& io, const std::string& address,
                                                 std::uint16_t port,
                                                 std::shared_ptr<ServerState> state) {
    const bool v6 = address.find(':') != std::string::npos;
    const std::string where = (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
    boost::system::error_code ec;
    const auto ip = net::ip::make_address(address, ec);
    if (ec) return fail("cannot listen on " + where + ": '" + address + "' is not an IP address");
    const tcp::endpoint endpoint(ip, port);

    auto listener = std::make_shared<Listener>(io, std::move(state));
    auto& acceptor = listener->acceptor_;
    const auto failed = [&](const char* step) {
        return fail("cannot listen on " + where + ": " + step + ": " + ec.message());
    };
    if (acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
    if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec)
        return failed("setsockopt");
    if (acceptor.bind(endpoint, ec); ec) return failed("bind");
    if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) return failed("listen");
    return listener;
}

Listener::Listener(net::io_context& io, std::shared_ptr<ServerState> state)
    : acceptor_(io), retry_(io), state_(std::move(state)) {}

void Listener::run() {
    do_accept();
}

void Listener::stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
}

std::uint16_t Listener::port() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
}

void Listener::do_accept() {
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket));
        });
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stopped
    if (ec && out_of_resources(ec)) {
        logger->warn("cannot accept a connection: {}; retrying shortly", ec.message());
        retry_.expires_after(kAcceptRetryDelay);
        retry_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
            if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
        });
        return;
    }
    if (ec) {
        logger->debug("accept failed: {}", ec.message());
    } else {
        start_session(std::move(socket), state_);
    }
    do_accept();
}

}  // namespace hostline::controller::http
