// The terminal chat of `hostline dev`: lines typed (or piped) in are sent to the controller's
// chat service as one local user, and its replies printed.
//
// Like a chat, a line does not hold up the next one for long: each line's conversation runs
// on its own thread with its own ApiClient (so its own connection), and the next line is
// sent once the previous one has had its first reply (for a job: "job #N on ...") or has
// ended. Waiting for that first reply keeps piped scripts predictable: `!run ...` then
// `!jobs` lists the job. Later replies (progress, the summary) are printed whole as they
// arrive. At most kMaxConversations run at once; a line beyond that waits for one to end.
//
// Threads: every public method is for the one thread that owns the chat (dev's main loop),
// which polls wake_fd() beside its other descriptors. Conversation threads only print (under
// a mutex, whole lines) and report back through wake_fd().
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cli/api_client.hpp"
#include "common/error.hpp"

namespace hostline::cli {

class TerminalChat {
  public:
    static constexpr std::size_t kMaxConversations = 32;

    // identity: "local:NAME". interactive: show a prompt (stdin is a terminal). Fails only
    // when the descriptors it needs cannot be made.
    static Result<std::unique_ptr<TerminalChat>> create(ControllerUrl url, ApiToken token,
                                                        std::string identity, bool interactive);
    // Interrupts whatever still runs and waits for its threads.
    ~TerminalChat();

    TerminalChat(const TerminalChat&) = delete;
    TerminalChat& operator=(const TerminalChat&) = delete;

    // Readable when a conversation has had its first reply or has ended: call on_wake().
    int wake_fd() const { return wake_fd_; }
    // False while lines wait to be sent: read no more input until it is true again, so a
    // long piped script is not read ahead into memory.
    bool wants_input() const { return queued_.empty(); }
    // True once input has ended and every conversation started has ended.
    bool done() const;

    // Shows the prompt (interactive only) unless it is already showing.
    void prompt();
    // Bytes read from stdin: complete lines are queued and sent in order as they can be.
    void feed(std::string_view bytes);
    // Input has ended: a last unterminated line is sent too; done() tells when all ended.
    void finish();
    void on_wake();
    // Ctrl-C, SIGTERM or a dead child: stops every stream now and waits for the threads.
    // Lines still queued are dropped.
    void interrupt();

  private:
    struct Conversation;

    TerminalChat(ControllerUrl url, ApiToken token, std::string identity, bool interactive,
                 int wake_fd, int stop_fd);

    void send_queued();
    void start(std::string line);
    void reap_ended();
    bool latest_answered();
    void converse(Conversation& conversation, const std::string& line);
    void on_reply(Conversation& conversation, const std::string& text);
    void on_end(Conversation& conversation, const std::string& error);
    void print_line_locked(const std::string& text, bool to_stderr);
    void show_prompt_locked();
    void wake() const;

    // Constant after construction.
    const ControllerUrl url_;
    const ApiToken token_;
    const std::string identity_;
    const bool interactive_;
    const int wake_fd_;  // eventfd: conversations write, the owner drains
    const int stop_fd_;  // eventfd: written once to interrupt every stream; never read

    // Owned by the owning thread.
    std::string partial_;
    std::deque<std::string> queued_;
    bool input_ended_ = false;
    bool said_full_ = false;  // "waiting for one to end" was said for queued_.front()
    std::vector<std::unique_ptr<Conversation>> conversations_;
    Conversation* latest_ = nullptr;  // the last one started, until it is answered

    // Guarded by mutex_: stdout and stderr, and each Conversation's answered/ended.
    mutable std::mutex mutex_;
    bool prompt_showing_ = false;
};

}  // namespace hostline::cli
