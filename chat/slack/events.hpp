// What Slack's envelopes carry, turned into the chat layer's values: an events_api payload
// into an IncomingMessage (for `message` and `app_mention` events), an interactive
// block_actions payload into an ApprovalAction (a click on our Approve / Deny button).
//
// Payload shapes: ../shared/chat-platforms.md §1.1; tests/chat/fixtures/slack/socket-mode/.
// Pure functions; any thread may call them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "chat/adapter.hpp"
#include "chat/approval_action.hpp"
#include "common/error.hpp"

namespace hostline::chat::slack {

// The bot's own identity in the workspace, from auth.test (or the payload's authorizations):
// messages it wrote itself are ignored, and a leading mention of it is stripped.
struct BotIdentity {
    std::string user_id;  // "U…": how others mention the bot
    std::string bot_id;   // "B…": what the bot's own messages carry in bot_id
};

// One events_api payload, read.
struct SlackEvent {
    std::string event_id;  // dedupe on this (EventDedupe)
    // A channel message and an app_mention of the same message arrive as two events with two
    // event_ids but the same channel and ts; this key ("C111:1610241741.000200") is the same in
    // both, so dedupe on it as well when subscribed to both.
    std::string message_key;
    std::optional<IncomingMessage> message;  // set when there is something for the bot to read
    // The message began with a mention of the bot (always true for app_mention), so it is
    // addressed to the bot even though the mention was stripped from message->text.
    bool mentions_bot = false;
    std::string ignored_because;  // set when message is not: why, for the debug log
};

// Reads an events_api envelope's payload (Envelope::payload). Ignored, with a reason: events
// other than message/app_mention, messages with a subtype (edits, joins, bot_message…; but
// thread_broadcast and file_share are people writing, so read), with a bot_id, or from the
// bot's own user. Error: not an event_callback, or missing/ill-typed fields
// (event_id, event.type, and for messages user, channel, ts, text).
//
// The IncomingMessage: sender.id "slack:<user id>" (display_name empty: resolve it with
// users.info), channel the channel id, thread = thread_ts when the message is in a thread else
// its own ts (so replies start or continue its thread), message_id = ts, direct_message when
// channel_type is "im", text readable (mrkdwn.hpp to_plain_text) with a leading mention of the
// bot removed.
Result<SlackEvent> read_events_api(std::string_view payload_json, const BotIdentity& bot);

// The button action_ids of an approval request (blocks.hpp puts them there).
inline constexpr std::string_view kApproveActionId = "hostline_approve";
inline constexpr std::string_view kDenyActionId = "hostline_deny";

// Reads an interactive envelope's payload. A block_actions click on a hostline_approve /
// hostline_deny button whose value is the job id gives an ApprovalAction: user "slack:<id>",
// the choice, the job, and request = the container's channel_id and message_ts (the message to
// replace with the outcome). nullopt for other interactions (other buttons, other payload types),
// which are not ours to answer. Error: a payload that is not JSON or whose fields have the wrong
// types, or one of our buttons with a value that is not a job id.
Result<std::optional<ApprovalAction>> read_interactive(std::string_view payload_json);

}  // namespace hostline::chat::slack
