// The Teams adapter's one Session: the inbound validation, the conversations' serviceUrls, the
// outbound queue (one lane per conversation) with its token, its retries and its 429 gate.
// Everything runs on the io_context's thread, so nothing here locks; handlers hold the Session
// weakly and do nothing once it has gone.
#include "chat/teams/teams_adapter.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <variant>
#include <vector>

#include "chat/approval_action.hpp"
#include "chat/backoff.hpp"
#include "chat/net/https_client.hpp"
#include "chat/net/retry_after.hpp"
#include "chat/net/url.hpp"
#include "chat/teams/activity.hpp"
#include "chat/teams/bot_framework_auth.hpp"
#include "chat/teams/connector_retry.hpp"
#include "chat/teams/connector_token.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"teams"};

namespace hostline::chat::teams {
namespace {

using Clock = std::chrono::steady_clock;

// Teams refuses messages over ~100 KB of activity JSON; 28 KB of text leaves room for
// escaping, which can triple some characters.
constexpr std::size_t kMaxMessageBytes = 28 * 1024;
// A 429 without a usable Retry-After waits this long; a longer one is cut to this.
constexpr std::chrono::seconds kDefaultRetryAfter{1};
constexpr std::chrono::seconds kMaxRetryAfter{300};

// Conversation and activity ids as one path segment: everything but RFC 3986's unreserved
// characters escaped (Teams ids hold ':', ';', '@' and '=').
std::string path_segment(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// A channel thread's conversation id is the channel's plus ";messageid=ROOT"; the serviceUrl is
// the same for every thread, so it is kept under the channel's.
std::string base_conversation(std::string_view conversation_id) {
    return std::string(conversation_id.substr(0, conversation_id.find(";messageid=")));
}

// The card Adapter::post_approval_request's text makes: its first line, then the rest.
ApprovalCard card_of(const std::string& text, std::int64_t job_id) {
    ApprovalCard card;
    card.job_id = job_id;
    std::size_t start = 0;
    bool first = true;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (first) {
            card.title = std::move(line);
            first = false;
        } else if (!line.empty()) {
            card.summary.push_back(std::move(line));
        }
        start = end + 1;
    }
    return card;
}

// What the connector said went wrong: the status, and the error code from its body when it
// gives one ({"error":{"code":"BotNotInConversationRoster",...}}): never more than that, as
// the body is the connector's to fill.
std::string connector_error(const net::HttpResponse& reply) {
    std::string why = "HTTP " + std::to_string(reply.status);
    const auto body = nlohmann::json::parse(reply.body, nullptr, false);
    if (!body.is_object()) return why;
    const auto error = body.find("error");
    if (error == body.end() || !error->is_object()) return why;
    const auto code = error->find("code");
    if (code == error->end() || !code->is_string()) return why;
    std::string text = code->get<std::string>().substr(0, 80);
    if (text.empty() || !std::all_of(text.begin(), text.end(),
                                     [](unsigned char c) { return std::isalnum(c) != 0; }))
        return why;
    return why + " (" + text + ")";
}

// Whether the activity's entities mention its recipient (the bot).
bool mentions_recipient(const std::string& body) {
    const auto activity = nlohmann::json::parse(body, nullptr, false);
    if (!activity.is_object()) return false;
    const auto recipient = activity.find("recipient");
    const auto entities = activity.find("entities");
    if (recipient == activity.end() || !recipient->is_object() || entities == activity.end() ||
        !entities->is_array())
        return false;
    const std::string bot = recipient->value("id", "");
    if (bot.empty()) return false;
    for (const auto& entity : *entities) {
        if (!entity.is_object() || entity.value("type", "") != "mention") continue;
        const auto mentioned = entity.find("mentioned");
        if (mentioned != entity.end() && mentioned->is_object() &&
            mentioned->value("id", "") == bot)
            return true;
    }
    return false;
}

// A bounded map that forgets its oldest entries.
template <typename Value>
class Recent {
  public:
    explicit Recent(std::size_t limit) : limit_(limit) {}
    void put(const std::string& key, Value value) {
        if (values_.insert_or_assign(key, std::move(value)).second) order_.push_back(key);
        while (values_.size() > limit_) {
            values_.erase(order_.front());
            order_.pop_front();
        }
    }
    const Value* find(const std::string& key) const {
        auto it = values_.find(key);
        return it == values_.end() ? nullptr : &it->second;
    }

  private:
    std::size_t limit_;
    std::map<std::string, Value> values_;
    std::deque<std::string> order_;
};

}  // namespace

class TeamsAdapter::Session : public std::enable_shared_from_this<Session> {
  public:
    Session(boost::asio::io_context& io, TeamsConfig config)
        : io_(io),
          config_(std::move(config)),
          tokens_([] { return Clock::now(); }),
          conversations_(kMaxConversations),
          cards_(kMaxCards),
          wake_timer_(io),
          token_timer_(io),
          token_backoff_(kFirstRetryWait, kLongestRetryWait) {}

    Result<void> start(Listener listener) {
        if (started_) return fail("the Teams adapter is already started");
        if (config_.app_id.empty()) return fail("needs the bot's app_id");
        if (config_.app_password.empty()) return fail("needs the bot's app password");
        for (const auto& [what, url] :
             {std::pair{"openid_metadata_url", config_.openid_metadata_url},
              std::pair{"token_url", config_.token_url}}) {
            if (auto parsed = net::parse_url(url); !parsed)
                return fail(std::string(what) + ": " + parsed.error().message);
        }
        auto client = net::HttpsClient::create(io_, {.tls = {.ca_file = config_.ca_file}});
        if (!client) return fail(client.error().message);
        client_ = std::move(*client);
        std::weak_ptr<Session> weak = weak_from_this();
        auth_.emplace(
            BotFrameworkAuthConfig{config_.app_id, config_.issuer, config_.openid_metadata_url},
            [weak](const std::string& url, std::function<void(Result<std::string>)> done) {
                auto self = weak.lock();
                if (!self) return done(fail("the Teams adapter has stopped"));
                self->fetch_document(url, std::move(done));
            },
            [] { return std::chrono::system_clock::now(); });
        listener_ = std::move(listener);
        started_ = true;
        stopped_ = false;
        return {};
    }

    void stop() {
        stopped_ = true;
        wake_timer_.cancel();
        token_timer_.cancel();
        timer_armed_ = false;
        lanes_.clear();
        queued_ = 0;
    }

    void receive(std::string authorization, std::string body,
                 std::function<void(InboxAnswer)> answer) {
        if (!started_ || stopped_) return answer({503, "the Teams adapter is not running"});
        if (authorization.empty()) return answer({401, "an Authorization header is required"});
        auto activity = parse_activity(body);
        if (!activity) return answer({400, activity.error().message});
        if (auto* message = std::get_if<IncomingMessage>(&activity->content);
            message != nullptr && mentions_recipient(body)) {
            // Teams hands a bot channel and group-chat messages only when they @mention it, and
            // the mention is gone from the text: without this the chat service, which sees no
            // prefix, would take the command for ordinary chat.
            message->addressed = true;
        }
        // Copied first: the callback below takes the activity.
        const std::string channel_id = activity->channel_id;
        const std::string service_url = activity->service_url;
        std::weak_ptr<Session> weak = weak_from_this();
        auth_->validate(authorization, channel_id, service_url,
                        [weak, activity = std::move(*activity),
                         answer = std::move(answer)](Result<Claims> claims) mutable {
                            auto self = weak.lock();
                            if (!self) return;
                            self->on_validated(std::move(activity), claims, std::move(answer));
                        });
    }

    void post(const std::string& channel, const std::string& thread, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) {
        send_new(reply_conversation_id(channel, thread), message_activity(escape_markdown(text)),
                 std::move(done));
    }

    void edit(const PostedMessage& message, const std::string& text) {
        replace(message, message_activity(escape_markdown(text)));
    }

    void post_approval_request(const std::string& channel, const std::string& thread,
                               const std::string& text, std::int64_t job_id,
                               std::function<void(Result<PostedMessage>)> done) {
        ApprovalCard card = card_of(text, job_id);
        std::weak_ptr<Session> weak = weak_from_this();
        send_new(reply_conversation_id(channel, thread), card_activity(approval_card(card)),
                 [weak, card, done = std::move(done)](Result<PostedMessage> posted) {
                     auto self = weak.lock();
                     if (self && posted) self->cards_.put(posted->message_id, card);
                     done(std::move(posted));
                 });
    }

    void show_decision(const PostedMessage& request, const std::string& text) {
        ApprovalCard card;
        if (const ApprovalCard* known = cards_.find(request.message_id)) card = *known;
        if (card.title.empty()) card = card_of(text, 0);
        // The chat service's text says what happened; "denied" or "expired" in it is bad news.
        const bool good =
            text.find("denied") == std::string::npos && text.find("expired") == std::string::npos;
        std::string decided = outcome_card(card, text, good);
        if (request.message_id == deciding_invoke_) decided_for_invoke_ = decided;
        replace(request, card_activity(decided));
    }

  private:
    struct Outbound {
        std::string method;  // POST or PUT
        std::string conversation_id;
        std::string activity_id;  // PUT only
        std::string body;
        std::function<void(Result<PostedMessage>)> done;
        std::uint64_t sequence = 0;  // the order it was given in, across conversations
        int tries = 0;               // sent so far
        int failures = 0;            // tries that ended in a `retry` verdict
        bool token_refreshed = false;
        std::string sent_with;  // the token of its last try: secret, never logged
    };

    // One conversation's requests. Its head is sent alone and the rest wait behind it, so
    // replies and edits land in the order given even when the head has to be tried again.
    struct Lane {
        std::deque<Outbound> waiting;
        bool sending = false;            // a request of it is on the wire
        Clock::time_point not_before{};  // its head's backoff
    };

    void on_validated(InboundActivity activity, const Result<Claims>& claims,
                      std::function<void(InboxAnswer)> answer) {
        if (!claims) {
            // Why it was refused helps whoever set the bot up; the token itself is never shown.
            logger->warn("activity refused: {}", claims.error().message);
            return answer({401, "the activity's token is not valid: " + claims.error().message});
        }
        if (stopped_) return answer({503, "the Teams adapter is not running"});
        conversations_.put(base_conversation(activity.conversation_id), activity.service_url);
        if (auto* ignored = std::get_if<IgnoredActivity>(&activity.content)) {
            logger->debug("{}", ignored->why);
            return answer({200, "{}"});
        }
        if (auto* message = std::get_if<IncomingMessage>(&activity.content)) {
            answer({200, "{}"});
            if (listener_.on_message) listener_.on_message(*message);
            return;
        }
        const auto& action = std::get<ApprovalAction>(activity.content);
        // The chat service decides the click now; if that decision replaces this very card,
        // show_decision() leaves the decided card here for the invoke's answer.
        deciding_invoke_ = action.request.message_id;
        decided_for_invoke_.reset();
        if (listener_.on_approval_action) listener_.on_approval_action(action);
        deciding_invoke_.clear();
        std::string card;
        if (decided_for_invoke_) {
            card = std::move(*decided_for_invoke_);
        } else if (const ApprovalCard* known = cards_.find(action.request.message_id)) {
            card = approval_card(*known);
        } else {
            card = outcome_card({action.job_id, "Job #" + std::to_string(action.job_id), {}},
                                "Your answer was received; the outcome is posted here.", true);
        }
        decided_for_invoke_.reset();
        answer({200, invoke_response(card)});
    }

    void send_new(std::string conversation_id, std::string body,
                  std::function<void(Result<PostedMessage>)> done) {
        Outbound request;
        request.method = "POST";
        request.conversation_id = std::move(conversation_id);
        request.body = std::move(body);
        request.done = std::move(done);
        enqueue(std::move(request));
    }

    void replace(const PostedMessage& message, std::string body) {
        if (message.message_id.empty()) return;
        Outbound request;
        request.method = "PUT";
        request.conversation_id = message.channel;
        request.activity_id = message.message_id;
        request.body = std::move(body);
        request.done = [](Result<PostedMessage>) {};  // a failure is logged by finish()
        enqueue(std::move(request));
    }

    void enqueue(Outbound request) {
        auto refuse = [&](std::string why) {
            logger->warn("{} to Teams conversation {} refused: {}", request.method,
                         request.conversation_id, why);
            boost::asio::post(
                io_, [done = std::move(request.done), why = std::move(why)] { done(fail(why)); });
        };
        if (!started_ || stopped_) return refuse("the Teams adapter is not running");
        if (conversations_.find(base_conversation(request.conversation_id)) == nullptr)
            return refuse("no serviceUrl is known for Teams conversation " +
                          request.conversation_id +
                          " (the bot answers only where it was written to)");
        if (queued_ >= kMaxQueued)
            return refuse("the Teams send queue is full (" + std::to_string(kMaxQueued) + ")");
        request.sequence = next_sequence_++;
        lanes_[request.conversation_id].waiting.push_back(std::move(request));
        ++queued_;
        pump();
    }

    // Sends what may go now, oldest first: the head of each conversation that has nothing on
    // the wire and no wait to sit out, while a token is at hand and fewer than kMaxInFlight are
    // out. Then sets the timer for the next head whose wait ends.
    void pump() {
        if (stopped_) return;
        while (in_flight_ < kMaxInFlight) {
            const auto now = Clock::now();
            Lane* next = nullptr;
            for (auto& [conversation, lane] : lanes_) {
                if (lane.sending || lane.waiting.empty() || ready_at(lane) > now) continue;
                if (next == nullptr ||
                    lane.waiting.front().sequence < next->waiting.front().sequence) {
                    next = &lane;
                }
            }
            if (next == nullptr) break;
            auto token = tokens_.current();
            if (!token) {
                fetch_token();
                break;
            }
            Outbound request = std::move(next->waiting.front());
            next->waiting.pop_front();
            --queued_;
            send(std::move(request), *token);
        }
        arm_wake_timer();
    }

    // A 429 holds every conversation; a backoff only its own.
    Clock::time_point ready_at(const Lane& lane) const {
        return std::max(lane.not_before, blocked_until_);
    }

    void arm_wake_timer() {
        const auto now = Clock::now();
        std::optional<Clock::time_point> wake;
        for (const auto& [conversation, lane] : lanes_) {
            if (lane.sending || lane.waiting.empty()) continue;
            const auto at = ready_at(lane);
            if (at > now && (!wake || at < *wake)) wake = at;
        }
        if (!wake || (timer_armed_ && wake_at_ == *wake)) return;
        wake_at_ = *wake;
        timer_armed_ = true;
        wake_timer_.expires_at(*wake);
        std::weak_ptr<Session> weak = weak_from_this();
        wake_timer_.async_wait([weak](const boost::system::error_code& error) {
            auto self = weak.lock();
            if (!self || error) return;  // cancelled: stopped, or set again for another time
            self->timer_armed_ = false;
            self->pump();
        });
    }

    void send(Outbound request, const std::string& token) {
        const std::string* service_url =
            conversations_.find(base_conversation(request.conversation_id));
        if (service_url == nullptr)
            return finish(std::move(request), fail("the serviceUrl of Teams conversation " +
                                                   request.conversation_id + " was forgotten"));
        std::string url = *service_url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += "/v3/conversations/" + path_segment(request.conversation_id) + "/activities";
        if (!request.activity_id.empty()) url += "/" + path_segment(request.activity_id);
        net::HttpRequest http;
        http.method = request.method;
        http.url = std::move(url);
        http.headers = {{"Authorization", "Bearer " + token},
                        {"Content-Type", "application/json; charset=utf-8"}};
        http.body = request.body;
        http.timeout = config_.request_timeout;
        request.sent_with = token;
        ++request.tries;
        ++in_flight_;
        lanes_[request.conversation_id].sending = true;
        std::weak_ptr<Session> weak = weak_from_this();
        client_->request(std::move(http), [weak, request = std::move(request)](
                                              Result<net::HttpResponse> reply) mutable {
            auto self = weak.lock();
            if (!self) return;
            --self->in_flight_;
            if (auto lane = self->lanes_.find(request.conversation_id); lane != self->lanes_.end())
                lane->second.sending = false;
            self->on_sent(std::move(request), reply);
            self->pump();
        });
    }

    void on_sent(Outbound request, const Result<net::HttpResponse>& reply) {
        const std::string what =
            request.method + " to Teams conversation " + request.conversation_id;
        const int status = reply ? reply->status : 0;
        const std::string why = reply ? connector_error(*reply) : reply.error().message;
        switch (connector_verdict(status)) {
            case ConnectorVerdict::delivered:
                return on_delivered(std::move(request), reply->body, what);
            case ConnectorVerdict::rate_limited: {
                auto wait = net::retry_after_wait(reply->header("Retry-After"),
                                                  std::chrono::system_clock::now(),
                                                  {kDefaultRetryAfter, kMaxRetryAfter});
                // "Now" from a connector that keeps answering 429 would make a tight loop.
                if (wait == std::chrono::seconds(0)) wait = kDefaultRetryAfter;
                logger->info("{}: rate limited (429); every send waits {} s", what, wait.count());
                blocked_until_ = std::max(blocked_until_, Clock::now() + wait);
                return again(std::move(request));
            }
            case ConnectorVerdict::refresh_token:
                if (request.token_refreshed) break;
                // Only if no other call has already replaced the token this one was sent with.
                if (tokens_.current() == request.sent_with) tokens_.clear();
                request.token_refreshed = true;
                logger->info("{}: the connector refused the token (401); fetching another", what);
                return again(std::move(request));
            case ConnectorVerdict::retry: {
                ++request.failures;
                if (request.failures >= kMaxConnectorAttempts) break;
                auto wait = retry_backoff(request.failures, random_());
                // A 503 may say how long the service expects to be down: no sooner than that.
                if (reply && !reply->header("Retry-After").empty())
                    wait = std::max<std::chrono::milliseconds>(
                        wait, net::retry_after_wait(reply->header("Retry-After"),
                                                    std::chrono::system_clock::now(),
                                                    {kDefaultRetryAfter, kMaxRetryAfter}));
                logger->info("{}: {}; trying again in {} ms (try {} of {})", what, why,
                             wait.count(), request.tries + 1, kMaxConnectorAttempts);
                return again(std::move(request), Clock::now() + wait);
            }
            case ConnectorVerdict::failed:
                break;
        }
        const std::string tries =
            request.tries > 1 ? " after " + std::to_string(request.tries) + " tries" : "";
        finish(std::move(request), fail(what + " failed" + tries + ": " + why));
    }

    void on_delivered(Outbound request, const std::string& body, const std::string& what) {
        std::string id = request.activity_id;
        if (id.empty()) {
            auto answer = nlohmann::json::parse(body, nullptr, false);
            if (answer.is_object() && answer.contains("id") && answer["id"].is_string())
                id = answer["id"].get<std::string>();
            if (id.empty())
                return finish(std::move(request),
                              fail(what + ": the connector gave no activity id"));
        }
        PostedMessage posted{request.conversation_id, id};
        finish(std::move(request), std::move(posted));
    }

    // Back at the head of its conversation, ahead of everything given after it, and the
    // conversation held until `not_before`.
    void again(Outbound request, Clock::time_point not_before = {}) {
        if (stopped_) return;  // dropped with the rest of the queue
        auto& lane = lanes_[request.conversation_id];
        lane.not_before = not_before;
        lane.waiting.push_front(std::move(request));
        ++queued_;
    }

    // The request's last word: its lane is let go first, since `done` may post again.
    void finish(Outbound request, Result<PostedMessage> outcome) {
        if (auto lane = lanes_.find(request.conversation_id);
            lane != lanes_.end() && !lane->second.sending && lane->second.waiting.empty())
            lanes_.erase(lane);
        if (!outcome) logger->warn("{}", outcome.error().message);
        request.done(std::move(outcome));
    }

    void fetch_token() {
        if (fetching_token_) return;
        fetching_token_ = true;
        TokenRequest token = token_request(
            ClientCredentials{config_.token_url, config_.app_id, config_.app_password});
        net::HttpRequest http;
        http.method = "POST";
        http.url = token.url;
        http.headers = {{"Content-Type", token.content_type}};
        http.body = std::move(token.body);
        http.timeout = config_.request_timeout;
        std::weak_ptr<Session> weak = weak_from_this();
        client_->request(std::move(http), [weak](Result<net::HttpResponse> reply) {
            auto self = weak.lock();
            if (!self) return;
            Result<ConnectorToken> token = !reply
                                               ? Result<ConnectorToken>(fail(reply.error().message))
                                               : parse_token_response(reply->body);
            // No answer, a 5xx or a 429 from the token endpoint passes: ask again after a
            // growing wait while the replies wait. An OAuth refusal (invalid_client) does not.
            const bool passing = !reply || reply->status >= 500 || reply->status == 429;
            if (!token && reply && passing)
                token = fail("the token endpoint answered HTTP " + std::to_string(reply->status));
            if (!token && passing && ++self->token_failures_ < kMaxConnectorAttempts) {
                const auto wait = self->token_backoff_.next();
                logger->info("no connector token ({}); asking again in {} ms",
                             token.error().message, wait.count());
                self->token_timer_.expires_after(wait);
                // Still "fetching" while it waits, so a pump does not ask at once.
                self->token_timer_.async_wait([weak](const boost::system::error_code& error) {
                    auto again = weak.lock();
                    if (!again || error || again->stopped_) return;
                    again->fetching_token_ = false;
                    again->fetch_token();
                });
                return;
            }
            self->fetching_token_ = false;
            self->token_failures_ = 0;
            self->token_backoff_.reset();
            if (!token) {
                // Nothing can be sent without a token: fail what waits rather than hold it.
                const std::string why = "no connector token: " + token.error().message;
                logger->warn("{}", why);
                std::vector<Outbound> waiting;
                for (auto lane = self->lanes_.begin(); lane != self->lanes_.end();) {
                    for (auto& request : lane->second.waiting)
                        waiting.push_back(std::move(request));
                    lane->second.waiting.clear();
                    lane = lane->second.sending ? std::next(lane) : self->lanes_.erase(lane);
                }
                self->queued_ = 0;
                for (auto& request : waiting) request.done(fail(why));
                return;
            }
            self->tokens_.store(*token);
            self->pump();
        });
    }

    void fetch_document(const std::string& url, std::function<void(Result<std::string>)> done) {
        net::HttpRequest http;
        http.url = url;
        http.timeout = config_.request_timeout;
        client_->request(
            std::move(http), [url, done = std::move(done)](Result<net::HttpResponse> reply) {
                if (!reply) return done(fail(reply.error().message));
                if (reply->status != 200)
                    return done(fail("HTTP " + std::to_string(reply->status) + " from " + url));
                done(std::move(reply->body));
            });
    }

    // Constant after construction:
    boost::asio::io_context& io_;
    TeamsConfig config_;

    bool started_ = false;
    bool stopped_ = false;
    Listener listener_;
    std::unique_ptr<net::HttpsClient> client_;
    std::optional<BotFrameworkAuth> auth_;
    ConnectorTokenCache tokens_;
    bool fetching_token_ = false;
    int token_failures_ = 0;             // token requests that failed in a row, while replies wait
    Recent<std::string> conversations_;  // base conversation id -> validated serviceUrl
    Recent<ApprovalCard> cards_;         // approval card's activity id -> what it shows
    std::map<std::string, Lane> lanes_;  // conversation id -> its requests; none empty for long
    std::size_t queued_ = 0;             // waiting in all lanes (not on the wire)
    std::uint64_t next_sequence_ = 0;
    std::size_t in_flight_ = 0;
    Clock::time_point blocked_until_{};  // a 429's Retry-After, for every conversation
    boost::asio::steady_timer wake_timer_;
    boost::asio::steady_timer token_timer_;  // asking the token endpoint again
    Backoff token_backoff_;
    bool timer_armed_ = false;
    Clock::time_point wake_at_{};
    std::mt19937_64 random_{std::random_device{}()};  // the backoff's jitter
    // While an invoke is being decided: the clicked card's activity id, and its decided card.
    std::string deciding_invoke_;
    std::optional<std::string> decided_for_invoke_;
};

TeamsAdapter::TeamsAdapter(boost::asio::io_context& io, TeamsConfig config)
    : session_(std::make_shared<Session>(io, std::move(config))) {}

TeamsAdapter::~TeamsAdapter() {
    session_->stop();
}

PlatformLimits TeamsAdapter::limits() const {
    PlatformLimits limits;
    limits.max_message_bytes = kMaxMessageBytes;
    limits.can_edit = true;
    limits.has_threads = true;
    return limits;
}

Result<void> TeamsAdapter::start(Listener listener) {
    return session_->start(std::move(listener));
}

void TeamsAdapter::stop() {
    session_->stop();
}

void TeamsAdapter::receive(std::string authorization, std::string body,
                           std::function<void(InboxAnswer)> answer) {
    session_->receive(std::move(authorization), std::move(body), std::move(answer));
}

void TeamsAdapter::post(const std::string& channel, const std::string& thread,
                        const std::string& text, std::function<void(Result<PostedMessage>)> done) {
    session_->post(channel, thread, text, std::move(done));
}

void TeamsAdapter::edit(const PostedMessage& message, const std::string& text) {
    session_->edit(message, text);
}

void TeamsAdapter::react(const IncomingMessage&, const std::string&) {}

void TeamsAdapter::post_approval_request(const std::string& channel, const std::string& thread,
                                         const std::string& text, std::int64_t job_id,
                                         std::function<void(Result<PostedMessage>)> done) {
    session_->post_approval_request(channel, thread, text, job_id, std::move(done));
}

void TeamsAdapter::show_decision(const PostedMessage& request, const std::string& text) {
    session_->show_decision(request, text);
}

}  // namespace hostline::chat::teams
