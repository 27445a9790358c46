// Reading what a ZeroMQ socket monitor (zmq_socket_monitor) reports: the agent watches its
// handshakes, the controller its connections opening and closing.
#pragma once

#include <cstdint>
#include <optional>

#include <zmq.hpp>

namespace hostline::transport {

struct SocketEvent {
    std::uint16_t id = 0;    // ZMQ_EVENT_*
    std::int32_t value = 0;  // the event's value: a file descriptor, an error or a status
};

// The next event queued on `monitor` (the PAIR socket connected to the monitor's endpoint),
// without waiting; nothing when none is queued. Events too short to hold an id and a value
// are skipped. Throws nothing.
std::optional<SocketEvent> next_socket_event(zmq::socket_t& monitor);

}  // namespace hostline::transport
