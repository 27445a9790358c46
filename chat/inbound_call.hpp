// A chat platform's call to the controller's own HTTP server: the Bot Connector's activities
// (POST /chat/teams/messages) and Slack's Events API requests (POST /chat/slack/events). The
// HTTP server hands over the raw headers and body, untouched, since each platform signs or
// authenticates exactly those; the adapter checks them before it reads anything else, and
// answers with the status and body the platform gets back.
//
// Threads: the controller's io_context thread; `answer` is called there exactly once.
#pragma once

#include <functional>
#include <string>

#include "common/header_list.hpp"

namespace hostline::chat {

struct InboundCall {
    HeaderList headers;
    std::string body;  // raw bytes as received
};

struct InboundAnswer {
    // Below 400: done or deliberately ignored. 400 unreadable; 401 not proven to come from the
    // platform (nothing was handed on); 503 the adapter is stopping.
    unsigned status = 200;
    std::string content_type = "application/json";
    // Below 400: the body to send (may be empty). From 400 on: the error's message, which never
    // contains a token or a secret.
    std::string body;
};

// What the HTTP server calls for one path.
using InboundHandler =
    std::function<void(InboundCall call, std::function<void(InboundAnswer)> answer)>;

}  // namespace hostline::chat
