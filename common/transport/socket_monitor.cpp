#include "common/transport/socket_monitor.hpp"

#include <cstring>

namespace hostline::transport {

std::optional<SocketEvent> next_socket_event(zmq::socket_t& monitor) {
    for (;;) {
        // Each event is two frames: the id and value, then the endpoint.
        zmq::message_t event, address;
        try {
            if (!monitor.recv(event, zmq::recv_flags::dontwait)) return std::nullopt;
            if (event.more()) (void)monitor.recv(address, zmq::recv_flags::dontwait);
        } catch (const zmq::error_t&) {
            return std::nullopt;
        }
        SocketEvent out;
        if (event.size() < sizeof out.id + sizeof out.value) continue;
        std::memcpy(&out.id, event.data(), sizeof out.id);
        std::memcpy(&out.value, event.data<char>() + sizeof out.id, sizeof out.value);
        return out;
    }
}

}  // namespace hostline::transport
