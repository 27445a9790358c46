#include "chat/slack/events_request.hpp"

#include "chat/slack/json_input.hpp"
#include "chat/slack/request_signature.hpp"
#include "common/percent_encoding.hpp"

namespace hostline::chat::slack {

namespace {

bool is_form(std::string_view content_type) {
    constexpr std::string_view kForm = "application/x-www-form-urlencoded";
    if (content_type.size() < kForm.size()) return false;
    for (std::size_t i = 0; i < kForm.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(content_type[i])) != kForm[i]) return false;
    return content_type.size() == kForm.size() || content_type[kForm.size()] == ';';
}

// The `payload` field of an interaction's form body.
Result<std::string> form_payload(std::string_view body) {
    while (!body.empty()) {
        const auto end = std::min(body.find('&'), body.size());
        const auto pair = body.substr(0, end);
        body.remove_prefix(std::min(end + 1, body.size()));
        const auto equals = pair.find('=');
        if (pair.substr(0, equals) != "payload") continue;
        if (equals == std::string_view::npos) break;
        auto value = percent_decode(pair.substr(equals + 1));
        if (!value) return fail("the form's payload field has a malformed %-escape");
        return std::move(*value);
    }
    return fail("the form body has no payload field (an interaction's JSON comes in `payload`)");
}

}  // namespace

Result<EventsRequest> read_events_request(std::string_view content_type, std::string_view body) {
    EventsRequest request;
    if (is_form(content_type)) {
        auto payload = form_payload(body);
        if (!payload) return payload.error();
        request.kind = EventsRequest::Kind::interaction;
        request.payload = std::move(*payload);
        request.type = "interaction";
        return request;
    }
    auto parsed = parse_json(body, "Events API body");
    if (!parsed) return parsed.error();
    if (!parsed->is_object()) return fail("the Events API body is not a JSON object");
    auto type = required_string(*parsed, "type", 64);
    if (!type) return fail("the Events API body: " + type.error().message);
    request.type = *type;
    if (*type == "url_verification") {
        auto challenge = url_verification_challenge(body);
        if (!challenge) return challenge.error();
        request.kind = EventsRequest::Kind::url_verification;
        request.challenge = std::move(*challenge);
    } else if (*type == "event_callback") {
        request.kind = EventsRequest::Kind::event_callback;
        request.payload = std::string(body);
    }
    return request;
}

}  // namespace hostline::chat::slack
