// What the HTTP server hands the Bot Connector's calls to (POST /chat/teams/messages): the
// Authorization header and the raw activity. The inbox validates the Bot Framework JWT before it
// uses anything in the body, so the server asks for no API token here. Keeps the HTTP module
// free of Teams types: the Teams adapter sits behind this interface.
//
// Threads: the controller's io_context thread; `answer` is called there exactly once.
#pragma once

#include <functional>
#include <string>

namespace hostline::controller {

struct TeamsInboxAnswer {
    // 200 done (or ignored); 400 not an activity; 401 no valid token (nothing handed on);
    // 503 the adapter is stopping.
    unsigned status = 200;
    // Below 400: the JSON body to send (for an invoke, the card to show); from 400 on, the
    // error's message, which never contains the token.
    std::string body;
};

class TeamsInbox {
  public:
    virtual ~TeamsInbox() = default;
    virtual void receive(std::string authorization, std::string body,
                         std::function<void(TeamsInboxAnswer)> answer) = 0;
};

}  // namespace hostline::controller
