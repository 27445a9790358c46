// The controller's line in `systemctl status`: STATUS= sent to the service manager when what
// it says changes (agents online, runs running), checked once a second on the io thread.
// Does nothing outside a service manager (no $NOTIFY_SOCKET), so tests and hand starts pay
// nothing for it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <string>

namespace hostline::controller {

class ServiceStatus {
  public:
    // describe() is called on io's thread and returns the current status line.
    ServiceStatus(boost::asio::io_context& io, std::function<std::string()> describe);

    void start();  // on io's thread, once the controller is ready
    void stop();   // on io's thread; no status is sent after it

  private:
    void on_tick();

    boost::asio::steady_timer timer_;
    std::function<std::string()> describe_;
    std::string last_;
};

}  // namespace hostline::controller
