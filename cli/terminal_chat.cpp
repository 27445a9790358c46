#include "cli/terminal_chat.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace hostline::cli {

TerminalChat::TerminalChat(ApiClient& api, std::string identity, bool interactive)
    : api_(api), identity_(std::move(identity)), interactive_(interactive) {}

void TerminalChat::prompt() const {
    if (!interactive_) return;
    std::printf("%s> ", identity_.c_str());
    std::fflush(stdout);
}

bool TerminalChat::feed(std::string_view bytes, int signal_fd) {
    partial_.append(bytes);
    for (std::size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
        std::string line = partial_.substr(0, nl);
        partial_.erase(0, nl + 1);
        if (!converse(line, signal_fd)) return false;
    }
    if (partial_.size() > 64 * 1024) {  // no line is that long: refuse rather than grow
        partial_.clear();
        std::printf("error: line too long\n");
    }
    return true;
}

bool TerminalChat::finish(int signal_fd) {
    std::string line = std::move(partial_);
    partial_.clear();
    return line.empty() || converse(line, signal_fd);
}

bool TerminalChat::converse(const std::string& raw, int signal_fd) {
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
        prompt();
        return true;
    }
    auto end = api_.post_stream_lines(
        "/api/v1/chat", {{"identity", identity_}, {"text", line}},
        [](std::string_view text) {
            auto event = nlohmann::json::parse(text, nullptr, false);
            if (event.is_object() && event.value("type", "") == "reply") {
                std::printf("%s\n", event.value("text", "").c_str());
                std::fflush(stdout);
            }
            return true;
        },
        signal_fd);
    if (!end) std::fprintf(stderr, "hostline: %s\n", end.error().message.c_str());
    if (end && *end == ApiClient::StreamEnd::interrupted) return false;
    prompt();
    return true;
}

}  // namespace hostline::cli
