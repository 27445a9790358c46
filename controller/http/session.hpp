// One HTTP connection: reads requests, hands them to the Router, writes the answers, and
// streams chunked event responses (the Beast code lives in session.cpp only).
//
// Runs on the io_context thread. The session keeps itself alive through its pending
// operations; errors on it are the client's business and are logged at debug level.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "controller/http/server_state.hpp"

namespace hostline::controller::http {

// Takes the accepted socket and serves it until either side closes or `state` closes it.
void start_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state);

}  // namespace hostline::controller::http
