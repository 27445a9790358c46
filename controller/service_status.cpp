#include "controller/service_status.hpp"

#include <chrono>

#include "common/service/service_manager.hpp"

namespace hostline::controller {

ServiceStatus::ServiceStatus(boost::asio::io_context& io, std::function<std::string()> describe)
    : timer_(io), describe_(std::move(describe)) {}

void ServiceStatus::start() {
    if (!service::under_service_manager()) return;
    last_ = describe_();
    on_tick();
}

void ServiceStatus::stop() {
    timer_.cancel();
}

void ServiceStatus::on_tick() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        if (std::string now = describe_(); now != last_) {
            last_ = std::move(now);
            service::notify_status(last_);
        }
        on_tick();
    });
}

}  // namespace hostline::controller
