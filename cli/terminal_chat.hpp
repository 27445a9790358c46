// The terminal chat of `hostline dev`: lines typed (or piped) in are sent to the controller's
// chat service as one local user, and its replies printed. Single-threaded; a conversation
// blocks until its last reply (for a job: the summary) unless a signal arrives.
#pragma once

#include <string>

#include "cli/api_client.hpp"

namespace hostline::cli {

class TerminalChat {
  public:
    // identity: "local:NAME". interactive: show a prompt (stdin is a terminal).
    TerminalChat(ApiClient& api, std::string identity, bool interactive);

    void prompt() const;
    // Feeds bytes read from stdin; every complete line is sent and answered. Returns false
    // when a signal arrived on signal_fd while a conversation ran (the caller handles it).
    bool feed(std::string_view bytes, int signal_fd);
    // Input has ended: sends a last unterminated line, if any.
    bool finish(int signal_fd);

  private:
    bool converse(const std::string& line, int signal_fd);

    ApiClient& api_;
    const std::string identity_;
    const bool interactive_;
    std::string partial_;
};

}  // namespace hostline::cli
