#include "chat/slack/socket_mode.hpp"

#include "chat/slack/json_input.hpp"

namespace hostline::chat::slack {
namespace {

// Slack's envelope ids are UUIDs; the bound only keeps a hostile id out of logs and acks.
constexpr std::size_t kMaxEnvelopeIdBytes = 256;

DisconnectReason reason_from(std::string_view text) {
    if (text == "warning") return DisconnectReason::warning;
    if (text == "refresh_requested") return DisconnectReason::refresh_requested;
    if (text == "too_many_websockets") return DisconnectReason::too_many_websockets;
    if (text == "link_disabled") return DisconnectReason::link_disabled;
    return DisconnectReason::other;
}

Result<Frame> read_hello(const nlohmann::json& frame) {
    Hello hello;
    auto n = optional_count(frame, "num_connections");
    if (!n) return fail("hello: " + n.error().message);
    hello.num_connections = n->value_or(0);
    if (const auto info = frame.find("connection_info"); info != frame.end()) {
        if (!info->is_object()) return fail("hello: \"connection_info\" must be an object");
        auto app_id = optional_string(*info, "app_id", 256);
        if (!app_id) return fail("hello: connection_info." + app_id.error().message);
        hello.app_id = app_id->value_or("");
    }
    return Frame(std::move(hello));
}

Result<Frame> read_disconnect(const nlohmann::json& frame) {
    auto reason = optional_string(frame, "reason", 256);
    if (!reason) return fail("disconnect: " + reason.error().message);
    Disconnect d;
    d.reason_text = reason->value_or("");
    d.reason = reason_from(d.reason_text);
    return Frame(std::move(d));
}

Result<Frame> read_envelope(const nlohmann::json& frame, EnvelopeType type) {
    Envelope e;
    e.type = type;
    auto id = required_string(frame, "envelope_id", kMaxEnvelopeIdBytes);
    if (!id) return fail("envelope: " + id.error().message);
    if (id->empty()) return fail("envelope: \"envelope_id\" is empty");
    e.envelope_id = std::move(*id);
    auto payload = required_object(frame, "payload");
    if (!payload) return fail("envelope " + e.envelope_id + ": " + payload.error().message);
    e.payload = (*payload)->dump();
    auto accepts = optional_bool(frame, "accepts_response_payload");
    if (!accepts) return fail("envelope " + e.envelope_id + ": " + accepts.error().message);
    e.accepts_response_payload = accepts->value_or(false);
    auto attempt = optional_count(frame, "retry_attempt");
    if (!attempt) return fail("envelope " + e.envelope_id + ": " + attempt.error().message);
    e.retry_attempt = attempt->value_or(0);
    auto why = optional_string(frame, "retry_reason", 256);
    if (!why) return fail("envelope " + e.envelope_id + ": " + why.error().message);
    e.retry_reason = why->value_or("");
    return Frame(std::move(e));
}

}  // namespace

Result<Frame> parse_frame(std::string_view text) {
    auto parsed = parse_json(text, "Socket Mode frame");
    if (!parsed) return parsed.error();
    const nlohmann::json& frame = *parsed;
    if (!frame.is_object()) return fail("Socket Mode frame is not a JSON object");
    auto type = required_string(frame, "type", 64);
    if (!type) return fail("Socket Mode frame: " + type.error().message);
    if (*type == "hello") return read_hello(frame);
    if (*type == "disconnect") return read_disconnect(frame);
    if (*type == "events_api") return read_envelope(frame, EnvelopeType::events_api);
    if (*type == "interactive") return read_envelope(frame, EnvelopeType::interactive);
    if (*type == "slash_commands") return read_envelope(frame, EnvelopeType::slash_commands);
    return fail("Socket Mode frame of unknown type \"" + *type + "\"");
}

std::string envelope_id_of(std::string_view text) {
    auto parsed = parse_json(text, "Socket Mode frame");
    if (!parsed || !parsed->is_object()) return {};
    auto id = required_string(*parsed, "envelope_id", kMaxEnvelopeIdBytes);
    return id ? std::move(*id) : std::string();
}

Result<std::string> ack_frame(std::string_view envelope_id, std::string_view payload_json) {
    nlohmann::json payload = nlohmann::json::object();
    if (!payload_json.empty()) {
        auto parsed = parse_json(payload_json, "ack payload");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) return fail("ack payload is not a JSON object");
        payload = std::move(*parsed);
    }
    // dump() throws on invalid UTF-8; the envelope id came from a parsed frame, so is valid,
    // but a caller could pass anything: replace rather than throw.
    nlohmann::json ack = {{"envelope_id", std::string(envelope_id)}, {"payload", payload}};
    return ack.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ReconnectPlan plan_for(DisconnectReason reason) {
    switch (reason) {
        case DisconnectReason::too_many_websockets:
            return ReconnectPlan::close_then_reconnect;
        case DisconnectReason::link_disabled:
            return ReconnectPlan::stop_and_report;
        case DisconnectReason::warning:
        case DisconnectReason::refresh_requested:
        case DisconnectReason::other:
            return ReconnectPlan::open_new_then_close_old;
    }
    return ReconnectPlan::open_new_then_close_old;
}

}  // namespace hostline::chat::slack
