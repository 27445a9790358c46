// Slack Web API requests and responses, as bytes: the JSON bodies of the methods the adapter
// calls and what their answers mean. No network code: the adapter sends these over chat/net
// (POST https://slack.com/api/<method>, Authorization: Bearer <bot token>, Content-Type
// application/json; charset=utf-8; GET methods take the query string).
//
// Shapes: ../shared/chat-platforms.md §1.2, tests/chat/fixtures/slack/web-api/. Pure
// functions; any thread may call them. Text that is not valid UTF-8 (job output can be
// anything) is sent with U+FFFD in place of the bad bytes rather than refused.
#pragma once

#include <string>
#include <string_view>

#include "chat/slack/events.hpp"
#include "common/error.hpp"

namespace hostline::chat::slack {

struct PostMessage {
    std::string channel;
    std::string text;         // mrkdwn; with blocks, the notification and fallback text
    std::string thread_ts;    // empty: not in a thread
    std::string blocks_json;  // a JSON array of blocks (blocks.hpp), or empty for none
};

struct UpdateMessage {
    std::string channel;
    std::string ts;  // the message to replace
    std::string text;
    std::string blocks_json;  // a JSON array; "[]" removes the blocks; empty leaves them be
};

// chat.postMessage: {"channel","text"[,"thread_ts"][,"blocks"],"unfurl_links":false}. Links
// to the controller are not unfurled: a preview of a job page helps nobody in a thread.
// Error: blocks_json is not a JSON array.
Result<std::string> post_message_body(const PostMessage& message);
// chat.update: {"channel","ts","text"[,"blocks"]}. Error: blocks_json is not a JSON array.
Result<std::string> update_message_body(const UpdateMessage& message);
// reactions.add: {"channel","timestamp","name"}; name without colons ("white_check_mark").
std::string reaction_body(std::string_view channel, std::string_view timestamp,
                          std::string_view name);
// users.info and conversations.info are read with GET: "user=U123", "channel=C123",
// percent-encoded.
std::string users_info_query(std::string_view user_id);
std::string conversations_info_query(std::string_view channel_id);

// What a Web API method answered (HTTP 200, or 429 with the ratelimited body).
struct ApiResponse {
    bool ok = false;
    std::string error;    // Slack's error code when !ok: "channel_not_found", "ratelimited"…
    std::string warning;  // e.g. "missing_charset"; for the log
    std::string ts;       // chat.postMessage / chat.update: the message
    std::string channel;  // chat.postMessage / chat.update: the channel id
};

// Error: the body is not a JSON object with a boolean "ok" (not Slack, or a proxy's page).
Result<ApiResponse> parse_api_response(std::string_view body);

// True for errors that mean the thing is already as wanted, so nothing is retried or reported:
// already_reacted (reactions.add; a redelivered event reacts twice) and no_reaction
// (reactions.remove).
bool is_harmless(std::string_view error);
// True for errors that another try later may cure: ratelimited, service_unavailable,
// internal_error, fatal_error, request_timeout. Every other error is the request's fault
// (channel_not_found, not_in_channel, invalid_auth, msg_too_long, …) and will fail again.
bool is_transient(std::string_view error);

// users.info: the name to call a person by: user.real_name, else user.profile.real_name,
// else user.name. Error: !ok (with Slack's code), or no name.
Result<std::string> parse_user_name(std::string_view body);
// conversations.info: channel.name. Error: !ok (with Slack's code), or no name (an IM).
Result<std::string> parse_channel_name(std::string_view body);
// auth.test (with the bot token): who the bot is, so its own messages are ignored and a
// mention of it is recognised. Error: !ok (with Slack's code), or no user_id.
Result<BotIdentity> parse_auth_test(std::string_view body);
// apps.connections.open: the wss:// URL to connect to. Error: !ok, or a URL that is not wss://.
Result<std::string> parse_connections_open(std::string_view body);

}  // namespace hostline::chat::slack
