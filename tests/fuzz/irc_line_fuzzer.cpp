// libFuzzer target: one line as an IRC server (or anyone it relays) could send it, through
// parse_line, and the same bytes through the irc_text helpers the adapter applies to
// untrusted text: strip_formatting (incoming messages), sanitize_outgoing and
// split_for_privmsg (job output on its way to the channel).
//
// Besides not crashing, the code must keep its promises for every input:
//   - a parsed line that format_line accepts parses back to the same tags, command and
//     parameters;
//   - strip_formatting leaves no formatting code;
//   - sanitize_outgoing gives valid UTF-8 with no control character but tab and newline;
//   - split_for_privmsg gives non-empty payloads within the limit, without line breaks,
//     each valid UTF-8 when the text was and the limit is at least 4.
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "chat/irc/irc_message.hpp"
#include "chat/irc/irc_text.hpp"

namespace {

using namespace hostline::chat::irc;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "IRC code broke its promise: %s\n", promise);
    std::abort();
}

void check_parse(std::string_view line) {
    auto message = parse_line(line);
    if (!message) {
        if (message.error().message.empty()) broken("an error says what was wrong");
        return;
    }
    if (message->command.empty()) broken("a parsed line has a command");
    if (message->params.size() > 15) broken("at most 15 parameters");

    const std::vector<std::string_view> params(message->params.begin(), message->params.end());
    auto formatted = format_line(message->command, params, message->tags);
    if (!formatted) return;
    auto again = parse_line(*formatted);
    if (!again) {
        std::fprintf(stderr, "'%s': %s\n", formatted->c_str(), again.error().message.c_str());
        broken("a formatted line parses");
    }
    if (again->tags != message->tags) broken("tags survive format_line");
    if (again->command != message->command) broken("the command survives format_line");
    if (again->params != message->params) broken("parameters survive format_line");
}

void check_strip(std::string_view text) {
    const std::string plain = strip_formatting(text);
    if (plain.size() > text.size()) broken("stripping never adds");
    if (plain.find_first_of(std::string_view("\x02\x03\x04\x0F\x11\x16\x1D\x1E\x1F")) !=
        std::string::npos) {
        broken("no formatting code is left");
    }
}

void check_outgoing(std::string_view text) {
    const std::string safe = sanitize_outgoing(text);
    if (!is_valid_utf8(safe)) broken("sanitised text is valid UTF-8");
    for (const char c : safe) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t' && c != '\n') || byte == 0x7F) {
            broken("sanitised text has no control character but tab and newline");
        }
    }
    // Either side of the 4-byte boundary the UTF-8 promise starts at, a small limit that
    // cuts often, and the adapter's real one. (A limit of 1 would make a payload per byte:
    // slow, and nothing the boundary cases do not cover.)
    for (const std::size_t limit :
         {std::size_t{3}, std::size_t{4}, std::size_t{17},
          privmsg_payload_limit("hostline!~hostline@127.0.0.1", "#jobs")}) {
        for (const std::string_view piece : {text, std::string_view(safe)}) {
            const bool valid = is_valid_utf8(piece);
            std::size_t total = 0;
            for (const std::string& payload : split_for_privmsg(piece, limit)) {
                if (payload.empty() || payload.size() > limit) broken("payloads fit the limit");
                if (payload.find_first_of("\r\n") != std::string::npos) {
                    broken("payloads have no line break");
                }
                if (valid && limit >= 4 && !is_valid_utf8(payload)) {
                    broken("a valid UTF-8 sequence is never split");
                }
                total += payload.size();
            }
            if (total > piece.size()) broken("splitting never adds");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    check_parse(line);
    check_strip(line);
    check_outgoing(line);
    return 0;
}
