#include "chat/slack/web_api.hpp"

#include "chat/slack/json_input.hpp"

namespace hostline::chat::slack {
namespace {

using nlohmann::json;

// Job output can be any bytes; Slack wants UTF-8. Replacing beats refusing a whole reply.
std::string to_text(const json& body) {
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> blocks_from(std::string_view blocks_json) {
    auto blocks = parse_json(blocks_json, "blocks");
    if (!blocks) return blocks.error();
    if (!blocks->is_array()) return fail("blocks must be a JSON array");
    return blocks;
}

std::string percent_encoded(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
            b == '-' || b == '_' || b == '.' || b == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
        }
    }
    return out;
}

// The response as JSON, checked to be Slack's shape; its error code when !ok.
Result<json> read_response(std::string_view body, std::string_view method) {
    auto parsed = parse_json(body, std::string(method) + " response");
    if (!parsed) return parsed.error();
    if (!parsed->is_object()) return fail(std::string(method) + " response is not a JSON object");
    const auto ok = parsed->find("ok");
    if (ok == parsed->end() || !ok->is_boolean()) {
        return fail(std::string(method) + " response has no \"ok\": not a Slack answer");
    }
    if (!ok->get<bool>()) {
        auto error = optional_string(*parsed, "error", 128);
        const std::string code = error && *error ? **error : "unknown_error";
        return fail(std::string(method) + " failed: " + code);
    }
    return parsed;
}

}  // namespace

Result<std::string> post_message_body(const PostMessage& message) {
    json body = {{"channel", message.channel}, {"text", message.text}, {"unfurl_links", false}};
    if (!message.thread_ts.empty()) body["thread_ts"] = message.thread_ts;
    if (!message.blocks_json.empty()) {
        auto blocks = blocks_from(message.blocks_json);
        if (!blocks) return blocks.error();
        body["blocks"] = std::move(*blocks);
    }
    return to_text(body);
}

Result<std::string> update_message_body(const UpdateMessage& message) {
    json body = {{"channel", message.channel}, {"ts", message.ts}, {"text", message.text}};
    if (!message.blocks_json.empty()) {
        auto blocks = blocks_from(message.blocks_json);
        if (!blocks) return blocks.error();
        body["blocks"] = std::move(*blocks);
    }
    return to_text(body);
}

std::string reaction_body(std::string_view channel, std::string_view timestamp,
                          std::string_view name) {
    return to_text(json{{"channel", std::string(channel)},
                        {"timestamp", std::string(timestamp)},
                        {"name", std::string(name)}});
}

std::string users_info_query(std::string_view user_id) {
    return "user=" + percent_encoded(user_id);
}

std::string conversations_info_query(std::string_view channel_id) {
    return "channel=" + percent_encoded(channel_id);
}

Result<ApiResponse> parse_api_response(std::string_view body) {
    auto parsed = parse_json(body, "Web API response");
    if (!parsed) return parsed.error();
    if (!parsed->is_object()) return fail("Web API response is not a JSON object");
    const auto ok = parsed->find("ok");
    if (ok == parsed->end() || !ok->is_boolean()) {
        return fail("Web API response has no \"ok\": not a Slack answer");
    }
    ApiResponse r;
    r.ok = ok->get<bool>();
    // Fields of the wrong type are left empty rather than refused: a response is read for
    // what it can tell, and "ok" already said whether the call worked.
    const auto text = [&](const char* key) {
        auto v = optional_string(*parsed, key, 256);
        return v && *v ? **v : std::string();
    };
    r.error = text("error");
    if (!r.ok && r.error.empty()) r.error = "unknown_error";
    r.warning = text("warning");
    r.ts = text("ts");
    r.channel = text("channel");
    return r;
}

bool is_harmless(std::string_view error) {
    return error == "already_reacted" || error == "no_reaction";
}

bool is_transient(std::string_view error) {
    return error == "ratelimited" || error == "service_unavailable" || error == "internal_error" ||
           error == "fatal_error" || error == "request_timeout";
}

Result<std::string> parse_user_name(std::string_view body) {
    auto response = read_response(body, "users.info");
    if (!response) return response.error();
    auto user = required_object(*response, "user");
    if (!user) return fail("users.info response: " + user.error().message);
    const auto name_in = [](const json& o, const char* key) {
        auto v = optional_string(o, key, 256);
        return v && *v ? **v : std::string();
    };
    std::string name = name_in(**user, "real_name");
    if (name.empty()) {
        if (const auto p = (*user)->find("profile"); p != (*user)->end() && p->is_object()) {
            name = name_in(*p, "real_name");
        }
    }
    if (name.empty()) name = name_in(**user, "name");
    if (name.empty()) return fail("users.info response: the user has no name");
    return name;
}

Result<std::string> parse_channel_name(std::string_view body) {
    auto response = read_response(body, "conversations.info");
    if (!response) return response.error();
    auto channel = required_object(*response, "channel");
    if (!channel) return fail("conversations.info response: " + channel.error().message);
    auto name = optional_string(**channel, "name", 256);
    if (!name || !*name || (*name)->empty()) {
        return fail("conversations.info response: the channel has no name");
    }
    return std::move(**name);
}

Result<BotIdentity> parse_auth_test(std::string_view body) {
    auto response = read_response(body, "auth.test");
    if (!response) return response.error();
    auto user_id = required_string(*response, "user_id", 64);
    if (!user_id || user_id->empty()) return fail("auth.test response: no user_id");
    auto bot_id = optional_string(*response, "bot_id", 64);
    if (!bot_id) return fail("auth.test response: " + bot_id.error().message);
    return BotIdentity{std::move(*user_id), bot_id->value_or("")};
}

Result<std::string> parse_connections_open(std::string_view body) {
    auto response = read_response(body, "apps.connections.open");
    if (!response) return response.error();
    auto url = required_string(*response, "url", 4096);
    if (!url) return fail("apps.connections.open response: " + url.error().message);
    if (!url->starts_with("wss://")) {
        return fail("apps.connections.open gave a URL that is not wss://");
    }
    return std::move(*url);
}

}  // namespace hostline::chat::slack
