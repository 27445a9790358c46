// Slack Socket Mode frames: what arrives on the WebSocket (hello, disconnect, envelopes), the
// ack that answers an envelope, and what the adapter does when Slack asks it to disconnect.
//
// Protocol (docs/chat.md, ../shared/chat-platforms.md §1.1): after apps.connections.open the
// client connects to the returned wss:// URL; Slack sends `hello`, then envelopes, each of which
// must be acked on the same socket by its envelope_id (ack first, then work: an unacked envelope
// is redelivered with retry_attempt > 0). `disconnect` announces that Slack will close the
// socket. Pure functions; any thread may call them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/error.hpp"

namespace hostline::chat::slack {

struct Hello {
    std::int64_t num_connections = 0;  // this app's open sockets, this one included
    std::string app_id;                // empty when Slack did not say
};

enum class DisconnectReason {
    warning,              // the socket will be closed soon (server maintenance)
    refresh_requested,    // the URL is old; Slack wants a new connection
    too_many_websockets,  // the app has more sockets open than Slack allows (10)
    link_disabled,        // Socket Mode was turned off in the app's settings
    other,                // a reason this code does not know
};

struct Disconnect {
    DisconnectReason reason = DisconnectReason::other;
    std::string reason_text;  // as Slack sent it, for the log
};

enum class EnvelopeType { events_api, interactive, slash_commands };

struct Envelope {
    std::string envelope_id;  // what the ack names
    EnvelopeType type = EnvelopeType::events_api;
    std::string payload;  // the payload object, as JSON text (events.hpp reads it)
    bool accepts_response_payload = false;
    std::int64_t retry_attempt = 0;  // 0 on first delivery
    std::string retry_reason;        // "timeout" etc. on a redelivery, else empty
};

using Frame = std::variant<Hello, Disconnect, Envelope>;

// Reads one text frame. Errors: not JSON, not an object, an unknown "type", an envelope
// without an envelope_id or payload object, or fields of the wrong type; the message says which.
// An envelope whose id could be read but which is otherwise wrong should still be acked, so
// Slack stops redelivering it: see envelope_id_of.
Result<Frame> parse_frame(std::string_view text);

// The envelope_id of a frame that parse_frame refused, when it has a usable one; empty
// otherwise. Lets the adapter ack (and so drop) envelopes it cannot use.
std::string envelope_id_of(std::string_view text);

// The ack for an envelope: {"envelope_id":"…","payload":{}}. `payload_json` is an object's
// JSON text to answer with (only where accepts_response_payload); empty means {}.
// Error: payload_json is not a JSON object.
Result<std::string> ack_frame(std::string_view envelope_id, std::string_view payload_json = {});

// What the adapter does on a disconnect frame.
enum class ReconnectPlan {
    open_new_then_close_old,  // fresh apps.connections.open, connect, then drop the old socket
    close_then_reconnect,     // drop the old socket first, then connect with a fresh URL
    stop_and_report,          // do not reconnect; tell the operator
};

// warning and refresh_requested keep a socket open throughout (no event missed);
// too_many_websockets must not open another one first; link_disabled cannot succeed until a
// person turns Socket Mode back on. An unknown reason is treated like warning.
ReconnectPlan plan_for(DisconnectReason reason);

}  // namespace hostline::chat::slack
