// Accepts TCP connections and starts a Session for each (Beast's listener, minus Beast).
//
// Runs on the io_context thread. It keeps itself alive through its pending accept until
// stop() closes the acceptor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/error.hpp"
#include "controller/http/server_state.hpp"

namespace hostline::controller::http {

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    // Binds and listens on address:port (port 0 picks one). Error: not an IP address, or
    // the socket cannot be opened, bound or listened on; the message names the address.
    static Result<std::shared_ptr<Listener>> open(boost::asio::io_context& io,
                                                  const std::string& address, std::uint16_t port,
                                                  std::shared_ptr<ServerState> state);

    Listener(boost::asio::io_context& io, std::shared_ptr<ServerState> state);

    void run();
    void stop();
    std::uint16_t port() const;

  private:
    void do_accept();
    void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;  // backs off when out of file descriptors
    std::shared_ptr<ServerState> state_;
};

}  // namespace hostline::controller::http
