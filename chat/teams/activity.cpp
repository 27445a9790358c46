#include "chat/teams/activity.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

constexpr std::string_view kAdaptiveCardType = "application/vnd.microsoft.card.adaptive";
constexpr std::string_view kThreadMarker = ";messageid=";

std::string string_at(const json& object, std::initializer_list<const char*> path) {
    const json* node = &object;
    for (const char* key : path) {
        if (!node->is_object()) return {};
        const auto it = node->find(key);
        if (it == node->end()) return {};
        node = &*it;
    }
    return node->is_string() ? node->get<std::string>() : std::string();
}

void append_utf8(std::string& out, std::uint32_t code_point) {
    if (code_point < 0x80) {
        out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
        out += static_cast<char>(0xC0 | (code_point >> 6));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
        out += static_cast<char>(0xE0 | (code_point >> 12));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code_point >> 18));
        out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
}

// "&#65;", "&#x41;": the code point, if it is a character that may appear in text.
std::optional<std::uint32_t> numeric_reference(std::string_view digits) {
    int base = 10;
    if (!digits.empty() && (digits.front() == 'x' || digits.front() == 'X')) {
        base = 16;
        digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 8) return std::nullopt;
    std::uint32_t value = 0;
    for (const char c : digits) {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (digit < 0) return std::nullopt;
        value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(digit);
    }
    if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        return std::nullopt;
    }
    return value;
}

// Decodes the entities Teams puts in message text. &nbsp; becomes a plain space: Teams writes
// it between a mention and the words after it, and commands split on spaces. An unknown or
// malformed entity stays as written.
std::string decode_html_entities(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t end = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
        if (end == std::string_view::npos || end - i > 12) {
            out += text[i++];
            continue;
        }
        const std::string_view name = text.substr(i + 1, end - i - 1);
        if (name == "amp") {
            out += '&';
        } else if (name == "lt") {
            out += '<';
        } else if (name == "gt") {
            out += '>';
        } else if (name == "quot") {
            out += '"';
        } else if (name == "apos") {
            out += '\'';
        } else if (name == "nbsp") {
            out += ' ';
        } else if (const auto code = !name.empty() && name.front() == '#'
                                         ? numeric_reference(name.substr(1))
                                         : std::nullopt) {
            append_utf8(out, *code == 0xA0 ? ' ' : *code);
        } else {
            out += text[i++];
            continue;
        }
        i = end + 1;
    }
    return out;
}

std::string trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(kSpace);
    return std::string(text.substr(first, last - first + 1));
}

// Removes each mention of `bot_id` (its entity's exact text, e.g. "<at>Hostline</at>").
std::string strip_bot_mentions(std::string text, const json& activity, const std::string& bot_id) {
    const auto entities = activity.find("entities");
    if (entities == activity.end() || !entities->is_array() || bot_id.empty()) return text;
    for (const auto& entity : *entities) {
        if (!entity.is_object() || string_at(entity, {"type"}) != "mention") continue;
        if (string_at(entity, {"mentioned", "id"}) != bot_id) continue;
        const std::string mention = string_at(entity, {"text"});
        if (mention.empty()) continue;
        for (auto at = text.find(mention); at != std::string::npos;
             at = text.find(mention, at + 1)) {
            text.replace(at, mention.size(), " ");
        }
    }
    return text;
}

IgnoredActivity ignored(std::string why) {
    return IgnoredActivity{"ignored: " + std::move(why)};
}

std::variant<IncomingMessage, ApprovalAction, IgnoredActivity> read_message(
    const json& activity, const InboundActivity& envelope) {
    const std::string aad_object_id = string_at(activity, {"from", "aadObjectId"});
    if (aad_object_id.empty()) return ignored("the sender has no aadObjectId (not a Teams user)");
    const auto text_field = activity.find("text");
    if (text_field == activity.end() || !text_field->is_string()) {
        return ignored("a message without text (a card submission or an attachment)");
    }
    IncomingMessage message;
    message.sender = {"teams:" + aad_object_id, string_at(activity, {"from", "name"})};
    const std::string_view conversation = envelope.conversation_id;
    if (const auto marker = conversation.find(kThreadMarker); marker != std::string_view::npos) {
        message.channel = std::string(conversation.substr(0, marker));
        message.thread = std::string(conversation.substr(marker + kThreadMarker.size()));
    } else {
        message.channel = envelope.conversation_id;
    }
    message.direct_message =
        string_at(activity, {"conversation", "conversationType"}) == "personal";
    message.message_id = envelope.activity_id;
    const std::string bot_id = string_at(activity, {"recipient", "id"});
    message.text = trim(
        decode_html_entities(strip_bot_mentions(text_field->get<std::string>(), activity, bot_id)));
    if (message.text.empty()) return ignored("a message with no text besides the mention");
    return message;
}

std::variant<IncomingMessage, ApprovalAction, IgnoredActivity> read_invoke(
    const json& activity, const InboundActivity& envelope) {
    const std::string name = string_at(activity, {"name"});
    if (name != "adaptiveCard/action") {
        return ignored("invoke \"" + name.substr(0, 64) + "\" is not an Adaptive Card action");
    }
    if (string_at(activity, {"value", "action", "type"}) != "Action.Execute") {
        return ignored("an Adaptive Card action that is not Action.Execute");
    }
    const auto value = activity.find("value");
    const auto action = value->find("action");
    const auto data = action->find("data");
    if (data == action->end() || !data->is_object() || !data->contains("hostline")) {
        return ignored("an Adaptive Card action that is not from a Hostline card");
    }
    const std::string verb = string_at(*data, {"hostline"});
    if (verb != "approve" && verb != "deny") {
        return ignored("a Hostline card action that is neither approve nor deny");
    }
    const auto job = data->find("job");
    if (job == data->end() || !job->is_number_integer() || job->get<std::int64_t>() <= 0) {
        return ignored("a Hostline card action without a job id");
    }
    const std::string aad_object_id = string_at(activity, {"from", "aadObjectId"});
    if (aad_object_id.empty()) return ignored("the sender has no aadObjectId (not a Teams user)");

    ApprovalAction click;
    click.user = {"teams:" + aad_object_id, string_at(activity, {"from", "name"})};
    click.choice = verb == "approve" ? ApprovalChoice::approve : ApprovalChoice::deny;
    click.job_id = job->get<std::int64_t>();
    click.request = {envelope.conversation_id, string_at(activity, {"replyToId"})};
    click.reason = trim(string_at(*data, {"reason"}));
    return click;
}

Result<InboundActivity> read_activity(const json& activity) {
    InboundActivity envelope;
    envelope.type = string_at(activity, {"type"});
    envelope.channel_id = string_at(activity, {"channelId"});
    envelope.service_url = string_at(activity, {"serviceUrl"});
    envelope.activity_id = string_at(activity, {"id"});
    envelope.conversation_id = string_at(activity, {"conversation", "id"});
    if (envelope.type.empty()) return fail("the activity has no type");
    if (envelope.channel_id.empty()) return fail("the activity has no channelId");
    if (envelope.service_url.empty()) return fail("the activity has no serviceUrl");
    if (envelope.conversation_id.empty()) return fail("the activity has no conversation.id");

    if (envelope.type == "message") {
        envelope.content = read_message(activity, envelope);
    } else if (envelope.type == "invoke") {
        envelope.content = read_invoke(activity, envelope);
    } else {
        envelope.content = ignored(envelope.type.substr(0, 64) + " activities are not commands");
    }
    return envelope;
}

json text_block(std::string_view text, bool bold = false) {
    json block = {{"type", "TextBlock"}, {"text", escape_markdown(text)}, {"wrap", true}};
    if (bold) {
        block["weight"] = "Bolder";
        block["size"] = "Medium";
    }
    return block;
}

json card_skeleton(const ApprovalCard& card) {
    json body = json::array({text_block(card.title, /*bold=*/true)});
    for (const auto& line : card.summary) body.push_back(text_block(line));
    return {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
            {"type", "AdaptiveCard"},
            {"version", "1.4"},
            {"body", std::move(body)}};
}

json execute_button(std::string_view title, std::string_view verb, std::string_view style,
                    std::int64_t job_id) {
    return {{"type", "Action.Execute"},
            {"title", title},
            {"verb", verb},
            {"style", style},
            {"data", {{"hostline", verb}, {"job", job_id}}}};
}

// Card JSON comes from this file; parsing it back cannot fail unless a caller passed other
// text, which is then carried as a string rather than dropped.
json card_value(std::string_view card_json) {
    json card = json::parse(card_json, nullptr, /*allow_exceptions=*/false);
    return card.is_discarded() ? json(card_json) : card;
}

// Text from outside may hold invalid UTF-8 (a job's output); replace it rather than throw.
std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<InboundActivity> parse_activity(std::string_view body) {
    if (body.size() > kMaxActivityBytes) {
        return fail("the activity is larger than " + std::to_string(kMaxActivityBytes) + " bytes");
    }
    const json activity = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (activity.is_discarded()) return fail("the activity is not valid JSON");
    if (!activity.is_object()) return fail("the activity is not a JSON object");
    try {
        return read_activity(activity);
    } catch (const json::exception& e) {
        return fail(std::string("the activity could not be read: ") + e.what());
    }
}

std::string reply_conversation_id(std::string_view channel, std::string_view thread) {
    std::string id(channel);
    if (!thread.empty()) id.append(kThreadMarker).append(thread);
    return id;
}

std::string escape_markdown(std::string_view text) {
    constexpr std::string_view kMarkdown = "\\`*_~#[]()|";
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (const char c : text) {
        if (c == '&') {
            out += "&amp;";
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            if (kMarkdown.find(c) != std::string_view::npos) out += '\\';
            out += c;
        }
    }
    return out;
}

std::string message_activity(std::string_view markdown_text, std::string_view reply_to_id) {
    json activity = {{"type", "message"}, {"text", markdown_text}, {"textFormat", "markdown"}};
    if (!reply_to_id.empty()) activity["replyToId"] = reply_to_id;
    return dump(activity);
}

std::string approval_card(const ApprovalCard& card) {
    json content = card_skeleton(card);
    content["body"].push_back({{"type", "Input.Text"},
                               {"id", "reason"},
                               {"placeholder", "Reason (for a denial)"},
                               {"isMultiline", false}});
    content["actions"] = json::array({execute_button("Approve", "approve", "positive", card.job_id),
                                      execute_button("Deny", "deny", "destructive", card.job_id)});
    return dump(content);
}

std::string decided_card(const ApprovalCard& card, const ApprovalDecision& decision) {
    std::string outcome =
        (decision.choice == ApprovalChoice::approve ? "Approved by " : "Denied by ") +
        decision.decided_by;
    if (decision.choice == ApprovalChoice::deny && !decision.reason.empty()) {
        outcome += ": " + decision.reason;
    }
    return outcome_card(card, outcome, decision.choice == ApprovalChoice::approve);
}

std::string outcome_card(const ApprovalCard& card, std::string_view outcome, bool good) {
    json content = card_skeleton(card);
    json block = text_block(outcome);
    block["weight"] = "Bolder";
    block["color"] = good ? "Good" : "Attention";
    content["body"].push_back(std::move(block));
    return dump(content);
}

std::string card_activity(std::string_view card_json, std::string_view reply_to_id) {
    json activity = {
        {"type", "message"},
        {"attachments",
         json::array({{{"contentType", kAdaptiveCardType}, {"content", card_value(card_json)}}})}};
    if (!reply_to_id.empty()) activity["replyToId"] = reply_to_id;
    return dump(activity);
}

std::string invoke_response(std::string_view card_json) {
    return dump(
        {{"statusCode", 200}, {"type", kAdaptiveCardType}, {"value", card_value(card_json)}});
}

}  // namespace hostline::chat::teams
