// A conversation with the chat service from outside any chat platform: the terminal chat of
// `hostline dev` (through POST /api/v1/chat) uses it. All calls and callbacks are on the
// controller's io_context thread.
#pragma once

#include <functional>
#include <string>

namespace hostline::controller {

class ChatGateway {
  public:
    virtual ~ChatGateway() = default;

    // Handles text as a direct message from identity (e.g. "local:alice"). Every reply goes
    // to on_reply; on_done is called once, after the last reply (for a job: its summary).
    virtual void converse(const std::string& identity, const std::string& text,
                          std::function<void(const std::string& reply)> on_reply,
                          std::function<void()> on_done) = 0;
};

}  // namespace hostline::controller
