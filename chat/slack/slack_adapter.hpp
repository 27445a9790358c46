// The Slack adapter: one app in one workspace over Socket Mode, so the controller needs no
// public endpoint, and the Web API for everything it says.
//
// start() asks auth.test who the bot is, then apps.connections.open (with the app-level token)
// for a fresh wss:// URL and connects to it. Every envelope is acked first and handled after:
// events_api messages become IncomingMessages (addressed when they mention the bot or are
// direct messages), clicks on our Approve/Deny buttons become ApprovalActions. Redeliveries are
// dropped by event_id, and a message seen both as `message` and `app_mention` by channel:ts.
// A disconnect frame is followed as socket_mode.hpp plans; any drop reconnects with a fresh
// URL after a jittered, growing delay. link_disabled stops reconnecting.
//
// Web API calls (with the bot token) queue per method, one in flight per method, so replies to
// a channel keep their order. A 429 holds its method for Retry-After (RetryAfterGate) and the
// call is sent again then: nothing is sent early, nothing is lost. The queue is bounded; a call
// beyond it fails. Edits of one message go through EditThrottle (one chat.update per interval,
// the latest text wins). Text is escaped as mrkdwn and cut below Slack's limit with the job link.
//
// In Events API mode there is no link: Slack POSTs each event to the controller's HTTP server,
// which hands it to receive(); the signature is checked and the event handled as above.
//
// Thread: every method, the destructor included, on the io_context's thread; the listener and
// the `done` callbacks are called on it, never from inside a method. Tokens are never logged.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "chat/adapter.hpp"
#include "chat/inbound_call.hpp"

namespace boost::asio {
class io_context;
}

namespace hostline::chat::slack {

// How Slack's events reach the adapter.
enum class SlackMode {
    socket_mode,  // the adapter connects out to Slack: no public endpoint (the default)
    events_api,   // Slack POSTs to the controller's /chat/slack/events, handed to receive()
};

struct SlackConfig {
    SlackMode mode = SlackMode::socket_mode;
    std::string app_token;  // xapp-…: apps.connections.open (scope connections:write); Socket Mode
    std::string bot_token;  // xoxb-…: every other Web API call
    // The app's signing secret: checks X-Slack-Signature on each Events API request.
    std::string signing_secret;
    // Where the Web API is; ends with '/'. Tests point it at the fake.
    std::string api_url = "https://slack.com/api/";
    std::string ca_file;       // a PEM bundle to trust; empty: the system's CAs
    std::string job_url_base;  // "https://hostline.example/jobs/": the link in a cut message
    std::chrono::milliseconds edit_interval{1000};  // chat.update per message at most this often
    // Reconnect backoff: the first delay, doubled after each failure up to the maximum; each
    // wait is drawn between half the delay and the delay.
    std::chrono::milliseconds reconnect_min{1000}, reconnect_max{60000};
    // A link silent this long (Slack pings every few seconds) is dead: reconnect.
    std::chrono::milliseconds idle_timeout{30000};
    std::size_t max_queued_calls = 2000;  // Web API calls waiting, all methods together
};

class SlackAdapter : public chat::Adapter {
  public:
    // `io` must outlive the adapter. Nothing happens before start().
    SlackAdapter(boost::asio::io_context& io, SlackConfig config);
    ~SlackAdapter() override;  // as stop()
    SlackAdapter(const SlackAdapter&) = delete;
    SlackAdapter& operator=(const SlackAdapter&) = delete;

    std::string platform() const override { return "slack"; }
    // Edits and threads; about 3,500 bytes a message (cut past it); edit_interval.
    PlatformLimits limits() const override;

    // Error: a missing token (or signing secret, for the Events API), an api_url that is not
    // https://…/, an unreadable ca_file, or a second start(). Failures to reach Slack are not
    // errors: it keeps trying, and logs why.
    Result<void> start(Listener listener) override;
    // Events API mode: one request Slack sent to /chat/slack/events. Its signature and timestamp
    // are checked first (401 without a word of the body used); then url_verification is answered
    // with the challenge, and an event or a click is answered 200 at once and handled after, as
    // the Socket Mode envelope would be. 400 for a signed body that cannot be read; 503 before
    // start(), after stop(), or while the bot's own identity is still being asked (Slack retries).
    void receive(InboundCall call, std::function<void(InboundAnswer)> answer);
    // Closes the link and drops queued calls; no callback runs afterwards.
    void stop() override;

    // chat.postMessage in `thread` (a ts; empty: the channel). done gets {channel, ts}.
    void post(const std::string& channel, const std::string& thread, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) override;
    // chat.update through the edit throttle.
    void edit(const PostedMessage& message, const std::string& text) override;
    // reactions.add on the message; already_reacted is fine.
    void react(const IncomingMessage& to, const std::string& emoji) override;
    // The Block Kit request with Approve and Deny buttons (blocks.hpp).
    void post_approval_request(const std::string& channel, const std::string& thread,
                               const std::string& text, std::int64_t job_id,
                               std::function<void(Result<PostedMessage>)> done) override;
    // chat.update with the decision's text and no buttons.
    void show_decision(const PostedMessage& request, const std::string& text) override;

  private:
    class Session;
    std::shared_ptr<Session> session_;  // shared with its own pending handlers
};

}  // namespace hostline::chat::slack
