// Bot Framework activities as Teams sends and receives them (Bot Connector v3 REST).
//
// Inbound: a message becomes a chat::IncomingMessage, a click on an approval card's button (an
// `adaptiveCard/action` invoke with Action.Execute) a chat::ApprovalAction; anything else is
// ignored with the reason. Outbound: the JSON bodies of a message, the approval card, the card
// that replaces it once decided, and the answer to the invoke.
//
// The approval card's Action.Execute data is {"hostline": "approve"|"deny", "job": ID}; Teams
// adds the card's inputs to it, so a denial's reason arrives as "reason".
//
// Pure functions; any thread may call them. The activity is not trusted by being parsed: the
// caller validates its JWT (bot_framework_auth) against channel_id and service_url first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chat/adapter.hpp"
#include "chat/approval_action.hpp"
#include "common/error.hpp"

namespace hostline::chat::teams {

// Bodies larger than this are refused unread: Teams messages are at most ~100 KB.
inline constexpr std::size_t kMaxActivityBytes = 256 * 1024;

// An activity the bot does not act on, and why ("ignored: conversationUpdate activities …").
struct IgnoredActivity {
    std::string why;
};

struct InboundActivity {
    // Checked against the token before anything else is used.
    std::string channel_id;   // "msteams"
    std::string service_url;  // where replies go, once the token vouched for it
    std::string type;         // "message", "invoke", …
    std::string activity_id;
    std::string conversation_id;  // as sent, with a channel thread's ";messageid=…"
    std::variant<IncomingMessage, ApprovalAction, IgnoredActivity> content;
};

// Parses an activity's JSON body. A message becomes an IncomingMessage:
//   - sender.id "teams:<from.aadObjectId>", display_name from.name;
//   - channel: conversation.id without a channel thread's ";messageid=<root>" suffix, so that a
//     Teams channel is one channel for policy whichever thread a command is typed in; thread:
//     that root message id (empty in personal and group chats, which have no threads); use
//     reply_conversation_id() to address the thread again;
//   - text: the bot's own mentions removed (entities of type "mention" whose mentioned.id is
//     the recipient's id; other people's mentions stay), HTML entities decoded, whitespace
//     trimmed;
//   - direct_message for conversationType "personal"; message_id the activity id.
// An invoke "adaptiveCard/action" with Action.Execute and Hostline's data becomes an
// ApprovalAction whose request is {conversation.id, replyToId} (the card's activity).
// Other activities, messages without an aadObjectId or text, and cards that are not ours are
// IgnoredActivity. Errors: not JSON, too large, or missing type, channelId, serviceUrl or
// conversation.id.
Result<InboundActivity> parse_activity(std::string_view body);

// The conversation id that posts into a channel thread: "<channel>;messageid=<thread>", or the
// channel alone when thread is empty.
std::string reply_conversation_id(std::string_view channel, std::string_view thread);

// Escapes text for Teams' markdown (messages with textFormat "markdown" and Adaptive Card
// TextBlocks): '&', '<' and '>' become HTML entities, because Teams reads HTML tags such as
// <at> in markdown text and a job's output must not mention anyone or format anything; the
// markdown punctuation \ ` * _ ~ # [ ] ( ) | gets a backslash, which both renderers honour, so
// text shows as typed. Newlines are kept.
std::string escape_markdown(std::string_view text);

// {"type":"message","text":…,"textFormat":"markdown"[,"replyToId":…]}. `text` is already
// markdown (escape what came from outside with escape_markdown).
std::string message_activity(std::string_view markdown_text, std::string_view reply_to_id = {});

// What an approval card shows. Every string is plain text; the card escapes it.
struct ApprovalCard {
    std::int64_t job_id = 0;
    std::string title;                 // "Approval needed: deploy-42"
    std::vector<std::string> summary;  // one TextBlock each (who asked, what, where)
};

struct ApprovalDecision {
    ApprovalChoice choice = ApprovalChoice::approve;
    std::string decided_by;  // display name
    std::string reason;      // a denial's reason; may be empty
};

// The Adaptive Card (version 1.4) of an approval request: the title and the summary as wrapped
// TextBlocks, an optional "reason" Input.Text, and Action.Execute buttons Approve and Deny whose
// data is {"hostline":"approve"|"deny","job":ID}. Returned as the card JSON object's text.
std::string approval_card(const ApprovalCard& card);

// The card that replaces the request once decided: the same text, then "Approved by NAME" or
// "Denied by NAME: reason", and no buttons.
std::string decided_card(const ApprovalCard& card, const ApprovalDecision& decision);

// The same card with any outcome text (the chat service's words for a decision) in bold, green
// when `good`, else red; no buttons.
std::string outcome_card(const ApprovalCard& card, std::string_view outcome, bool good);

// A message activity carrying one Adaptive Card (`card_json` from the functions above), for
// sending (POST …/activities) or replacing (PUT …/activities/{id}).
std::string card_activity(std::string_view card_json, std::string_view reply_to_id = {});

// The HTTP body answering an adaptiveCard/action invoke: an AdaptiveCardInvokeResponse
// {"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":card}, which makes
// Teams show `card_json` in place of the clicked card.
std::string invoke_response(std::string_view card_json);

}  // namespace hostline::chat::teams
