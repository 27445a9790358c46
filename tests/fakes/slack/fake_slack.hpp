// A fake Slack for tests: the Web API methods the adapter calls and the Socket Mode link, over
// TLS from testing::TlsTestServer, with envelopes built from the SDKs' payloads in
// tests/chat/fixtures/slack.
//
//   testing::TestCa ca;
//   FakeSlack slack(ca);
//   config.api_url = slack.api_url(); config.ca_file = ca.ca_file();
//   config.app_token = FakeSlack::kAppToken; config.bot_token = FakeSlack::kBotToken;
//   slack.wait_for_links(1, 10s);
//   slack.send_message("U222", "C111", "<@UBOT> help");
//
// Web API: POST /api/<method> with the right bearer token (else invalid_auth). Every call is
// recorded with the time it arrived and what was answered. rate_limit() makes the next calls of
// a method answer 429 with Retry-After; fail_next() answers a documented error instead.
// apps.connections.open hands out a new wss:// URL (a new ticket) each time; a link opened with
// an unknown or used ticket is refused. The link says hello, and envelopes not acked within the
// ack timeout are sent again with retry_attempt + 1 (3 retries, as Slack does).
//
// Thread-safe: the server runs on its own thread; every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/test_tls.hpp"

namespace hostline::testing {

class FakeSlack {
  public:
    static constexpr const char* kAppToken = "xapp-1-A111-test";
    static constexpr const char* kBotToken = "xoxb-111-test";
    static constexpr const char* kBotUser = "UBOT";
    static constexpr const char* kBotId = "BBOT";

    explicit FakeSlack(const TestCa& ca);
    ~FakeSlack();
    FakeSlack(const FakeSlack&) = delete;
    FakeSlack& operator=(const FakeSlack&) = delete;

    std::string api_url() const;  // "https://127.0.0.1:<port>/api/"

    // ---- the Web API ----

    // One call as it arrived. params: the JSON body, or the query's fields for GET.
    struct Call {
        std::string method;
        nlohmann::json params;
        std::chrono::steady_clock::time_point at;
        int status = 200;
        std::string error;    // Slack's error code when it answered ok:false
        int retry_after = 0;  // seconds, when it answered 429
    };
    std::vector<Call> calls(const std::string& method = "") const;
    bool wait_for_calls(const std::string& method, std::size_t count,
                        std::chrono::milliseconds timeout) const;

    // The next `times` calls of method answer HTTP 429, Retry-After: retry_after, counted from
    // each answer (a client that calls again early gets another 429 and resets nothing).
    void rate_limit(const std::string& method, int times, std::chrono::seconds retry_after);
    // The next call of method answers {"ok":false,"error":error} (e.g. "channel_not_found").
    void fail_next(const std::string& method, const std::string& error);
    void add_user(const std::string& id, const std::string& real_name);

    // A message the bot posted, with every text it had (chat.update appends).
    struct Posted {
        std::string channel;
        std::string ts;
        std::string thread_ts;           // "" when in the channel itself
        std::vector<std::string> texts;  // first the posted text, then each update's
        nlohmann::json blocks;           // as last posted or updated; null when none
        std::string text() const { return texts.empty() ? "" : texts.back(); }
    };
    std::vector<Posted> messages() const;
    // Waits until a posted message's current text contains `part`; returns it.
    std::optional<Posted> wait_for_message(const std::string& part,
                                           std::chrono::milliseconds timeout) const;
    // Reactions added: "channel:ts:name".
    std::vector<std::string> reactions() const;

    // ---- the Socket Mode link ----

    // Redelivery of envelopes not acked within this (default 3 s).
    void set_ack_timeout(std::chrono::milliseconds timeout);
    std::size_t links_opened() const;  // WebSocket links accepted so far
    bool wait_for_links(std::size_t count, std::chrono::milliseconds timeout) const;
    std::vector<std::string> link_tickets() const;  // the ticket of each link, in order
    bool link_open() const;                         // the latest link

    // Sends an events_api envelope with a `message` event from user in channel (channel_type
    // "channel", or "im" for a D… channel). Returns the envelope id; the message's ts is
    // returned through ts when given.
    std::string send_message(const std::string& user, const std::string& channel,
                             const std::string& text, std::string* ts = nullptr,
                             const std::string& thread_ts = "");
    // Sends the envelope's payload again under a new envelope id with retry_attempt + 1, as
    // Slack does after a lost ack; returns the new envelope id. (Envelopes not acked in time
    // are also sent again by themselves, under their own id.)
    std::string redeliver(const std::string& envelope_id);
    // Sends an interactive block_actions envelope: user clicked action_id ("hostline_approve",
    // "hostline_deny") with value job_id on the bot's message channel:message_ts.
    std::string send_click(const std::string& user, const std::string& channel,
                           const std::string& message_ts, const std::string& action_id,
                           std::int64_t job_id);
    void send_disconnect(const std::string& reason);
    void drop_link();  // TCP closed without a close frame

    // ---- the Events API (mode = "events"): requests as Slack POSTs them to the app ----

    static constexpr const char* kSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    struct SignedRequest {
        std::vector<std::pair<std::string, std::string>> headers;  // signature, timestamp, type
        std::string body;
    };
    // The event_callback of a message (the payload send_message's envelope carries), signed as
    // of `age` ago with kSigningSecret.
    SignedRequest message_request(const std::string& user, const std::string& channel,
                                  const std::string& text, std::string* ts = nullptr,
                                  std::chrono::seconds age = std::chrono::seconds(0));
    // A click as a form body (payload=…), the payload send_click's envelope carries.
    SignedRequest click_request(const std::string& user, const std::string& channel,
                                const std::string& message_ts, const std::string& action_id,
                                std::int64_t job_id);
    // Slack's url_verification (the fixture), signed.
    static SignedRequest url_verification_request();
    // Slack's v0 signature over "v0:TIMESTAMP:BODY" with `secret`, the timestamp `age` ago.
    static SignedRequest sign(const std::string& content_type, std::string body,
                              std::chrono::seconds age = std::chrono::seconds(0),
                              const std::string& secret = kSigningSecret);

    // Acks received (envelope ids, in order), and how often an envelope was sent.
    std::vector<std::string> acks() const;
    bool wait_for_ack(const std::string& envelope_id, std::chrono::milliseconds timeout) const;
    int deliveries(const std::string& envelope_id) const;

  private:
    class State;
    std::unique_ptr<TlsTestServer> server_;
    std::shared_ptr<State> state_;
};

}  // namespace hostline::testing
