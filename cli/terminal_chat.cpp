#include "cli/terminal_chat.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

namespace hostline::cli {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;  // no typed line is that long

// The text of a {"type": "reply", "text": ...} event; nothing for any other line.
std::optional<std::string> reply_text(std::string_view line) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_object()) return std::nullopt;
    auto type = event.find("type");
    auto text = event.find("text");
    if (type == event.end() || *type != "reply" || text == event.end() || !text->is_string())
        return std::nullopt;
    return text->get<std::string>();
}

bool is_blank(const std::string& line) {
    return line.find_first_not_of(" \t") == std::string::npos;
}

}  // namespace

// One line sent and its answer streaming in. answered: its first reply came or it ended, so
// the next line may go. ended: its thread has nothing left to do but return.
struct TerminalChat::Conversation {
    std::thread thread;
    bool answered = false;  // guarded by TerminalChat::mutex_
    bool ended = false;     // guarded by TerminalChat::mutex_
};

Result<std::unique_ptr<TerminalChat>> TerminalChat::create(ControllerUrl url, ApiToken token,
                                                           std::string identity, bool interactive) {
    int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake < 0 || stop < 0) {
        std::string why = std::strerror(errno);
        if (wake >= 0) ::close(wake);
        if (stop >= 0) ::close(stop);
        return fail("cannot start the terminal chat: " + why);
    }
    return std::unique_ptr<TerminalChat>(new TerminalChat(
        std::move(url), std::move(token), std::move(identity), interactive, wake, stop));
}

TerminalChat::TerminalChat(ControllerUrl url, ApiToken token, std::string identity,
                           bool interactive, int wake_fd, int stop_fd)
    : url_(std::move(url)),
      token_(std::move(token)),
      identity_(std::move(identity)),
      interactive_(interactive),
      wake_fd_(wake_fd),
      stop_fd_(stop_fd) {}

TerminalChat::~TerminalChat() {
    interrupt();
    ::close(wake_fd_);
    ::close(stop_fd_);
}

bool TerminalChat::done() const {
    return input_ended_ && queued_.empty() && conversations_.empty();
}

void TerminalChat::prompt() {
    std::lock_guard lock(mutex_);
    show_prompt_locked();
}

void TerminalChat::feed(std::string_view bytes) {
    partial_.append(bytes);
    bool got_line = false;
    for (std::size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
        queued_.push_back(partial_.substr(0, nl));
        partial_.erase(0, nl + 1);
        got_line = true;
    }
    {
        std::lock_guard lock(mutex_);
        // The terminal echoed the newline: the prompt is no longer on the current line.
        if (got_line) prompt_showing_ = false;
        if (partial_.size() > kMaxLine) {  // refuse rather than grow
            partial_.clear();
            print_line_locked("error: line too long", false);
        }
    }
    send_queued();
}

void TerminalChat::finish() {
    if (!partial_.empty()) queued_.push_back(std::move(partial_));
    partial_.clear();
    input_ended_ = true;
    {
        // Ctrl-D leaves the cursor after the prompt; later replies start on a line of their own
        // and bring no prompt back.
        std::lock_guard lock(mutex_);
        if (prompt_showing_) std::printf("\n");
        prompt_showing_ = false;
        std::fflush(stdout);
    }
    send_queued();
}

void TerminalChat::on_wake() {
    std::uint64_t count = 0;
    while (::read(wake_fd_, &count, sizeof count) == sizeof count) {
    }
    reap_ended();
    send_queued();
}

void TerminalChat::interrupt() {
    queued_.clear();
    std::uint64_t one = 1;
    // Every stream watches stop_fd_, and an eventfd stays readable once written: one write
    // ends them all, including one that is just connecting.
    (void)::write(stop_fd_, &one, sizeof one);
    for (auto& conversation : conversations_) conversation->thread.join();
    conversations_.clear();
    latest_ = nullptr;
}

// Sends queued lines in order while the previous line has been answered and there is room;
// otherwise on_wake() tries again when a conversation reports back.
void TerminalChat::send_queued() {
    while (!queued_.empty()) {
        if (!latest_answered()) return;
        if (conversations_.size() >= kMaxConversations) {
            if (!said_full_) {
                std::lock_guard lock(mutex_);
                print_line_locked(std::to_string(kMaxConversations) +
                                      " conversations are running: the next line waits until "
                                      "one of them ends",
                                  false);
            }
            said_full_ = true;
            return;
        }
        said_full_ = false;
        std::string line = std::move(queued_.front());
        queued_.pop_front();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!is_blank(line)) start(std::move(line));
    }
    if (!input_ended_ && latest_answered()) prompt();
}

void TerminalChat::start(std::string line) {
    conversations_.push_back(std::make_unique<Conversation>());
    Conversation& conversation = *conversations_.back();
    try {
        conversation.thread = std::thread(
            [this, &conversation, line = std::move(line)] { converse(conversation, line); });
    } catch (const std::system_error& e) {  // out of threads: this line goes unanswered
        conversations_.pop_back();
        std::lock_guard lock(mutex_);
        print_line_locked(std::string("hostline: cannot start a conversation: ") + e.what(), true);
        return;
    }
    latest_ = &conversation;
}

void TerminalChat::reap_ended() {
    std::vector<std::unique_ptr<Conversation>> ended;
    {
        std::lock_guard lock(mutex_);
        for (auto it = conversations_.begin(); it != conversations_.end();) {
            if ((*it)->ended) {
                ended.push_back(std::move(*it));
                it = conversations_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& conversation : ended) {
        if (conversation.get() == latest_) latest_ = nullptr;
        conversation->thread.join();  // it only had to return
    }
}

bool TerminalChat::latest_answered() {
    if (latest_ == nullptr) return true;
    std::lock_guard lock(mutex_);
    if (!latest_->answered) return false;
    latest_ = nullptr;
    return true;
}

// The body of a conversation's thread: nothing may escape it, so whatever goes wrong ends the
// conversation with a message.
void TerminalChat::converse(Conversation& conversation, const std::string& line) {
    std::string error;
    try {
        ApiClient api(url_, token_);
        auto end = api.post_stream_lines(
            "/api/v1/chat", {{"identity", identity_}, {"text", line}},
            [&](std::string_view event) {
                if (auto text = reply_text(event)) on_reply(conversation, *text);
                return true;
            },
            stop_fd_);
        if (!end) error = end.error().message;
    } catch (const std::exception& e) {
        error = e.what();
    }
    on_end(conversation, error);
}

void TerminalChat::on_reply(Conversation& conversation, const std::string& text) {
    std::lock_guard lock(mutex_);
    print_line_locked(text, false);
    if (!conversation.answered) {
        conversation.answered = true;
        wake();
    }
}

void TerminalChat::on_end(Conversation& conversation, const std::string& error) {
    std::lock_guard lock(mutex_);
    if (!error.empty()) print_line_locked("hostline: " + error, true);
    conversation.answered = true;
    conversation.ended = true;
    wake();
}

// One whole line. A reply that arrives while the prompt shows goes on a line of its own and
// the prompt comes back after it.
void TerminalChat::print_line_locked(const std::string& text, bool to_stderr) {
    const bool had_prompt = prompt_showing_;
    if (had_prompt) {
        std::printf("\n");
        std::fflush(stdout);
        prompt_showing_ = false;
    }
    std::FILE* out = to_stderr ? stderr : stdout;
    std::fprintf(out, "%s\n", text.c_str());
    std::fflush(out);
    if (had_prompt) show_prompt_locked();
}

void TerminalChat::show_prompt_locked() {
    if (!interactive_ || prompt_showing_) return;
    std::printf("%s> ", identity_.c_str());
    std::fflush(stdout);
    prompt_showing_ = true;
}

void TerminalChat::wake() const {
    std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
}

}  // namespace hostline::cli
