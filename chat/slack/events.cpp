#include "chat/slack/events.hpp"

#include <charconv>

#include "chat/slack/json_input.hpp"
#include "chat/slack/mrkdwn.hpp"

namespace hostline::chat::slack {
namespace {

// Slack ids (U…, C…, B…) and timestamps are short; bounding them keeps hostile payloads out of
// keys and logs.
constexpr std::size_t kMaxIdBytes = 64;

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Removes "<@BOTID>" (or "<@BOTID|name>") at the start of `text`, with the blanks around it.
// Returns whether it was there.
bool strip_leading_mention(std::string& text, std::string_view bot_user_id) {
    if (bot_user_id.empty()) return false;
    std::size_t i = 0;
    while (i < text.size() && is_blank(text[i])) ++i;
    const std::string head = "<@" + std::string(bot_user_id);
    if (text.compare(i, head.size(), head) != 0) return false;
    const std::size_t after = i + head.size();
    if (after >= text.size() || (text[after] != '>' && text[after] != '|')) return false;
    std::size_t end = text.find('>', after);
    if (end == std::string::npos) return false;
    ++end;
    while (end < text.size() && is_blank(text[end])) ++end;
    text.erase(0, end);
    return true;
}

Result<SlackEvent> read_message(const nlohmann::json& event, const std::string& type,
                                const BotIdentity& bot, SlackEvent out) {
    auto subtype = optional_string(event, "subtype", kMaxIdBytes);
    if (!subtype) return fail("event: " + subtype.error().message);
    // A reply also sent to the channel (thread_broadcast) and a message with a file
    // (file_share) are people writing; every other subtype is an edit, a join, a bot…
    if (*subtype && **subtype != "thread_broadcast" && **subtype != "file_share") {
        out.ignored_because = "a message with subtype " + **subtype;
        return out;
    }
    auto bot_id = optional_string(event, "bot_id", kMaxIdBytes);
    if (!bot_id) return fail("event: " + bot_id.error().message);
    if (*bot_id && !(*bot_id)->empty()) {
        out.ignored_because = "a message from bot " + **bot_id;
        return out;
    }
    auto user = required_string(event, "user", kMaxIdBytes);
    if (!user) return fail(type + " event: " + user.error().message);
    if (user->empty()) return fail(type + " event: \"user\" is empty");
    if (*user == bot.user_id) {
        out.ignored_because = "the bot's own message";
        return out;
    }
    auto channel = required_string(event, "channel", kMaxIdBytes);
    if (!channel) return fail(type + " event: " + channel.error().message);
    auto ts = required_string(event, "ts", kMaxIdBytes);
    if (!ts) return fail(type + " event: " + ts.error().message);
    if (channel->empty() || ts->empty()) return fail(type + " event: empty channel or ts");
    auto thread_ts = optional_string(event, "thread_ts", kMaxIdBytes);
    if (!thread_ts) return fail(type + " event: " + thread_ts.error().message);
    auto text = required_string(event, "text");
    if (!text) return fail(type + " event: " + text.error().message);
    auto channel_type = optional_string(event, "channel_type", kMaxIdBytes);
    if (!channel_type) return fail(type + " event: " + channel_type.error().message);

    std::string raw = std::move(*text);
    out.mentions_bot = strip_leading_mention(raw, bot.user_id) || type == "app_mention";
    IncomingMessage m;
    m.sender.id = "slack:" + *user;
    m.channel = *channel;
    m.thread = thread_ts->value_or("").empty() ? *ts : **thread_ts;
    m.message_id = *ts;
    m.direct_message = channel_type->value_or("") == "im";
    m.text = to_plain_text(raw);
    out.message_key = *channel + ":" + *ts;
    out.message = std::move(m);
    return out;
}

// A job id as our buttons carry it: decimal digits, positive.
std::optional<std::int64_t> job_id_from(std::string_view value) {
    std::int64_t id = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, id);
    if (value.empty() || ec != std::errc() || ptr != end || id <= 0) return std::nullopt;
    return id;
}

}  // namespace

Result<SlackEvent> read_events_api(std::string_view payload_json, const BotIdentity& bot) {
    auto parsed = parse_json(payload_json, "events_api payload");
    if (!parsed) return parsed.error();
    const nlohmann::json& payload = *parsed;
    if (!payload.is_object()) return fail("events_api payload is not a JSON object");
    auto type = required_string(payload, "type", kMaxIdBytes);
    if (!type) return fail("events_api payload: " + type.error().message);
    if (*type != "event_callback") {
        return fail("events_api payload of type \"" + *type + "\", not event_callback");
    }
    SlackEvent out;
    auto event_id = required_string(payload, "event_id", kMaxIdBytes);
    if (!event_id) return fail("events_api payload: " + event_id.error().message);
    out.event_id = std::move(*event_id);
    auto event = required_object(payload, "event");
    if (!event) return fail("events_api payload " + out.event_id + ": " + event.error().message);
    auto event_type = required_string(**event, "type", kMaxIdBytes);
    if (!event_type) return fail("event " + out.event_id + ": " + event_type.error().message);
    if (*event_type != "message" && *event_type != "app_mention") {
        out.ignored_because = "an event of type " + *event_type;
        return out;
    }
    const std::string id = out.event_id;
    auto read = read_message(**event, *event_type, bot, std::move(out));
    if (!read) return fail("event " + id + ": " + read.error().message);
    return read;
}

Result<std::optional<ApprovalAction>> read_interactive(std::string_view payload_json) {
    using Outcome = std::optional<ApprovalAction>;
    auto parsed = parse_json(payload_json, "interactive payload");
    if (!parsed) return parsed.error();
    const nlohmann::json& payload = *parsed;
    if (!payload.is_object()) return fail("interactive payload is not a JSON object");
    auto type = required_string(payload, "type", kMaxIdBytes);
    if (!type) return fail("interactive payload: " + type.error().message);
    if (*type != "block_actions") return Outcome();

    const auto actions = payload.find("actions");
    if (actions == payload.end() || !actions->is_array()) {
        return fail("block_actions: \"actions\" must be an array");
    }
    const nlohmann::json* ours = nullptr;
    ApprovalChoice choice = ApprovalChoice::approve;
    for (const auto& action : *actions) {
        if (!action.is_object()) return fail("block_actions: an action is not an object");
        auto id = optional_string(action, "action_id", 255);
        if (!id) return fail("block_actions: " + id.error().message);
        if (*id == kApproveActionId || *id == kDenyActionId) {
            ours = &action;
            choice = *id == kApproveActionId ? ApprovalChoice::approve : ApprovalChoice::deny;
            break;
        }
    }
    if (!ours) return Outcome();

    auto value = required_string(*ours, "value", 2000);
    if (!value) return fail("block_actions: our button's " + value.error().message);
    const auto job_id = job_id_from(*value);
    if (!job_id) return fail("block_actions: our button's value is not a job id");
    auto user = required_object(payload, "user");
    if (!user) return fail("block_actions: " + user.error().message);
    auto user_id = required_string(**user, "id", kMaxIdBytes);
    if (!user_id || user_id->empty()) return fail("block_actions: the user has no id");
    auto container = required_object(payload, "container");
    if (!container) return fail("block_actions: " + container.error().message);
    auto channel = required_string(**container, "channel_id", kMaxIdBytes);
    if (!channel) return fail("block_actions: container." + channel.error().message);
    auto ts = required_string(**container, "message_ts", kMaxIdBytes);
    if (!ts) return fail("block_actions: container." + ts.error().message);

    ApprovalAction action;
    action.user.id = "slack:" + *user_id;
    auto name = optional_string(**user, "name", 256);
    if (name && *name) action.user.display_name = **name;
    action.choice = choice;
    action.job_id = *job_id;
    action.request.channel = std::move(*channel);
    action.request.message_id = std::move(*ts);
    return Outcome(std::move(action));
}

}  // namespace hostline::chat::slack
