// libFuzzer target: bytes as Slack (or anyone who reached the Socket Mode URL or the Events
// API endpoint) could send them, through every reader of chat/slack, and the same bytes as job
// output through the mrkdwn formatting on its way to a channel.
//
// Besides not crashing, the code must keep its promises for every input:
//   - an error says what was wrong;
//   - an envelope has an id, and its ack is a JSON object naming that id;
//   - a message read from an event has a "slack:" sender, a channel, a thread and a ts;
//   - a click read as an approval names a positive job id and the message to update;
//   - an Events API request that reads is a challenge, or a payload the readers above take;
//   - cut_to_fit and code_block stay within the limit (when the limit can hold the note);
//   - code_block's fences are the only ``` in what it returns.
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/slack/events.hpp"
#include "chat/slack/events_request.hpp"
#include "chat/slack/mrkdwn.hpp"
#include "chat/slack/socket_mode.hpp"
#include "chat/slack/web_api.hpp"

namespace {

using namespace hostline::chat::slack;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "Slack code broke its promise: %s\n", promise);
    std::abort();
}

template <typename R>
void check_error(const R& result) {
    if (!result && result.error().message.empty()) broken("an error says what was wrong");
}

void check_frame(std::string_view text) {
    auto frame = parse_frame(text);
    check_error(frame);
    if (!frame) return;
    const auto* envelope = std::get_if<Envelope>(&*frame);
    if (!envelope) return;
    if (envelope->envelope_id.empty()) broken("an envelope has an id");
    auto ack = ack_frame(envelope->envelope_id);
    if (!ack) broken("an envelope can be acked");
    const auto parsed = nlohmann::json::parse(*ack, nullptr, false);
    if (!parsed.is_object() || parsed.value("envelope_id", "") != envelope->envelope_id) {
        broken("the ack names the envelope");
    }
}

void check_event(std::string_view text) {
    auto event = read_events_api(text, BotIdentity{"U111", "B111"});
    check_error(event);
    if (event && event->message) {
        const auto& m = *event->message;
        if (!m.sender.id.starts_with("slack:") || m.sender.id.size() == 6) {
            broken("a message has a slack: sender");
        }
        if (m.channel.empty() || m.thread.empty() || m.message_id.empty()) {
            broken("a message has a channel, thread and ts");
        }
    }
    auto click = read_interactive(text);
    check_error(click);
    if (click && *click) {
        const auto& a = **click;
        if (a.job_id <= 0) broken("a click names a positive job id");
        if (a.request.channel.empty() || a.request.message_id.empty()) {
            broken("a click names the message to update");
        }
    }
}

// An Events API body, as JSON and as a form: what it passes on is read like an envelope's.
void check_events_request(std::string_view text) {
    for (const char* type : {"application/json", "application/x-www-form-urlencoded"}) {
        auto request = read_events_request(type, text);
        check_error(request);
        if (!request) continue;
        if (request->kind == EventsRequest::Kind::url_verification && request->challenge.empty())
            broken("a url_verification has a challenge");
        if (request->kind == EventsRequest::Kind::event_callback ||
            request->kind == EventsRequest::Kind::interaction)
            check_event(request->payload);
    }
}

void check_responses(std::string_view text) {
    check_error(parse_api_response(text));
    check_error(parse_user_name(text));
    check_error(parse_channel_name(text));
    check_error(parse_connections_open(text));
}

std::size_t count_fences(const std::string& text) {
    std::size_t n = 0;
    for (auto at = text.find("```"); at != std::string::npos; at = text.find("```", at + 3)) ++n;
    return n;
}

void check_formatting(std::string_view text, std::size_t max_length) {
    const JobLink link{"https://hostline.example/jobs/42", 42};
    const std::size_t room_for_note = slack_length(cut_note(link)) + 6;
    const std::string cut = cut_to_fit(text, max_length, link);
    if (max_length >= room_for_note && slack_length(cut) > max_length) {
        broken("cut_to_fit stays within the limit");
    }
    const std::string block = code_block(text, max_length, link);
    if (max_length >= room_for_note) {
        if (slack_length(block) > max_length) broken("code_block stays within the limit");
        const std::size_t fences = count_fences(block);
        if (fences != 0 && fences != 2) broken("code_block's fences are its only ```");
    }
    (void)to_plain_text(text);
    (void)escape(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_frame(text);
    check_event(text);
    check_events_request(text);
    check_responses(text);
    // The first two bytes choose the limit, so short and long limits are both explored.
    const std::size_t max_length = size >= 2 ? (data[0] | (data[1] << 8)) % 4096 : 100;
    check_formatting(text, max_length);
    return 0;
}
