// What Slack POSTs to the app's Request URL in Events API mode (the alternative to Socket Mode),
// read once its signature is checked (request_signature.hpp): the url_verification handshake, an
// event_callback (the same JSON a Socket Mode events_api envelope carries as its payload), or a
// click on a button (a form body whose `payload` field is the same JSON an interactive envelope
// carries). Pure functions; any thread may call them.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::slack {

struct EventsRequest {
    enum class Kind {
        url_verification,  // answer 200 with `challenge` as text/plain
        event_callback,    // `payload`: read_events_api reads it
        interaction,       // `payload`: read_interactive reads it
        other,             // another type (app_rate_limited, …): answer 200, nothing to do
    };
    Kind kind = Kind::other;
    std::string challenge;
    std::string payload;  // JSON text
    std::string type;     // Slack's "type", for the log
};

// `content_type` is the request's Content-Type header: application/json for events,
// application/x-www-form-urlencoded for interactions. Errors say what was wrong: not JSON, no
// type, a form without a payload field or with a malformed %-escape, a bad challenge.
Result<EventsRequest> read_events_request(std::string_view content_type, std::string_view body);

}  // namespace hostline::chat::slack
