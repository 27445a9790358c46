// The Microsoft Teams adapter: Bot Framework activities in (POSTed by the Bot Connector to the
// controller's /chat/teams/messages and handed to receive()), messages and cards out through
// the connector's REST API at each conversation's serviceUrl.
//
// Inbound: each activity's JWT is validated (BotFrameworkAuth, keys fetched over HTTPS from the
// configured OpenID metadata URL) before anything in it is used; only then is its serviceUrl
// remembered for the conversation. Messages go to Listener::on_message, Action.Execute clicks on
// approval cards to Listener::on_approval_action, and the invoke is answered with the card to
// show (the decision when the click decided it, else the card unchanged). A channel or group
// message that @mentions the bot arrives with the mention stripped and direct_message set, so
// the chat service takes it as addressed to the bot although it carries no prefix.
//
// Outbound: POST / PUT v3/conversations/{id}/activities[/{activityId}] with a client-credentials
// token (fetched from the configured token URL, cached until shortly before it expires, fetched
// again once after a 401). Each conversation's requests go one at a time, in the order given,
// so a reply never overtakes one being tried again; at most kMaxInFlight conversations at a
// time and kMaxQueued requests waiting. A 429 stops every request until its Retry-After
// (seconds or an HTTP-date) has passed, then the same request goes again; 412, 502, 503, 504
// and no reply at all are tried again after a growing, jittered wait, up to
// kMaxConnectorAttempts tries (chat/teams/connector_retry.hpp). What finally fails is logged
// and handed to `done`.
//
// Thread: every method, the destructor included, on the io_context's thread (the controller's);
// the listener and every callback run on it too. No method blocks. Beast stays in the .cpp. The
// app password is never logged nor put in an error.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "chat/adapter.hpp"

namespace boost::asio {
class io_context;
}

namespace hostline::chat::teams {

struct TeamsConfig {
    std::string app_id;        // the Azure Bot's Microsoft App ID: the tokens' audience
    std::string app_password;  // its client secret: secret
    std::string openid_metadata_url =
        "https://login.botframework.com/v1/.well-known/openidconfiguration";
    std::string token_url = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
    std::string issuer = "https://api.botframework.com";
    // A PEM bundle to verify the Bot Framework's servers with; empty: the system's CAs.
    std::string ca_file;
    std::chrono::milliseconds request_timeout{30000};
};

// What the HTTP server answers the Bot Connector: a status and, below 400, a JSON body (for an
// invoke, the card to show); from 400 on, the body is an error message a person can read.
struct InboxAnswer {
    unsigned status = 200;
    std::string body;
};

class TeamsAdapter : public chat::Adapter {
  public:
    // Connector requests at a time (each of a different conversation), and requests waiting
    // behind them; more are refused.
    static constexpr std::size_t kMaxInFlight = 4;
    static constexpr std::size_t kMaxQueued = 1000;
    // Conversations whose serviceUrl is remembered, and approval cards whose text is kept to
    // redraw them with the decision; the oldest are forgotten beyond these.
    static constexpr std::size_t kMaxConversations = 10000;
    static constexpr std::size_t kMaxCards = 1000;

    // `io` must outlive the adapter. Nothing happens before start().
    TeamsAdapter(boost::asio::io_context& io, TeamsConfig config);
    ~TeamsAdapter() override;
    TeamsAdapter(const TeamsAdapter&) = delete;
    TeamsAdapter& operator=(const TeamsAdapter&) = delete;

    std::string platform() const override { return "teams"; }
    // About 28 KB a message, edits, threads in channels.
    PlatformLimits limits() const override;

    // Error: no app id or password, a bad URL, an unreadable ca_file, or a second start().
    Result<void> start(Listener listener) override;
    // Refuses further activities (503) and drops queued requests (their callbacks are not called:
    // whoever would receive them is stopping too).
    void stop() override;

    // One activity as POSTed to /chat/teams/messages. `answer` is called exactly once (maybe
    // before receive() returns), unless the adapter is destroyed first: 401 for a missing or
    // invalid token (nothing in the activity is used), 400 for a body that is not an activity,
    // 200 with "{}" for a message or an ignored activity, 200 with an invoke response for a click.
    void receive(std::string authorization, std::string body,
                 std::function<void(InboxAnswer)> answer);

    // Posts to a conversation the bot has heard from (its serviceUrl is known), in the thread
    // when given; the text is plain and shown as typed. done gets {conversation id posted to,
    // activity id}, or why not (an unknown conversation, a full queue, no token, the
    // connector's error after the retries above), exactly once unless stop() drops it.
    void post(const std::string& channel, const std::string& thread, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) override;
    // Replaces a posted message's text (PUT), retried like a post; failures are logged.
    void edit(const PostedMessage& message, const std::string& text) override;
    // Teams bots cannot add reactions: a no-op.
    void react(const IncomingMessage& to, const std::string& emoji) override;
    // An Adaptive Card: the text's first line as its title, the rest as its summary, Approve
    // and Deny buttons (Action.Execute).
    void post_approval_request(const std::string& channel, const std::string& thread,
                               const std::string& text, std::int64_t job_id,
                               std::function<void(Result<PostedMessage>)> done) override;
    // Replaces the card with the same card, the decision in place of its buttons.
    void show_decision(const PostedMessage& request, const std::string& text) override;

  private:
    class Session;
    std::shared_ptr<Session> session_;
};

}  // namespace hostline::chat::teams
