// What the listener and every session share (like shared_state in Beast's chat-multi
// example): the configuration, the router, and the open connections, so stop() can close
// them. Sessions hold it by shared_ptr, so it outlives the HttpServer while they unwind.
//
// Used on the io_context thread only; no locks.
#pragma once

#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "controller/http/http_server.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

// An open connection, as stop() sees it.
class Connection {
  public:
    virtual ~Connection() = default;
    virtual void close() = 0;
};

class ServerState {
  public:
    ServerState(JobService& jobs, HttpConfig config, Defer defer)
        : config(std::move(config)), router(jobs, this->config.admin_token, std::move(defer)) {}

    void add(Connection* connection, std::weak_ptr<Connection> handle) {
        connections_[connection] = std::move(handle);
    }
    void remove(Connection* connection) { connections_.erase(connection); }

    void close_all() {
        // Closing may run code that adds or removes entries: work on a copy.
        std::vector<std::weak_ptr<Connection>> open;
        for (const auto& [_, handle] : connections_) open.push_back(handle);
        for (const auto& handle : open) {
            if (auto connection = handle.lock()) connection->close();
        }
    }

    const HttpConfig config;
    Router router;

  private:
    std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
};

}  // namespace hostline::controller::http
