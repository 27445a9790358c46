// The Teams adapter's one Session: the inbound validation, the conversations' serviceUrls, the
// outbound queue with its token and its 429 gate. Everything runs on the io_context's thread,
// so nothing here locks; handlers hold the Session weakly and do nothing once it has gone.
#include "chat/teams/teams_adapter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "chat/approval_action.hpp"
#include "chat/net/https_client.hpp"
#include "chat/net/url.hpp"
#include "chat/teams/activity.hpp"
#include "chat/teams/bot_framework_auth.hpp"
#include "chat/teams/connector_token.hpp"

namespace hostline::chat::teams {
namespace {

using Clock = std::chrono::steady_clock;

// Teams refuses messages over ~100 KB of activity JSON; 28 KB of text leaves room for
// escaping, which can triple some characters.
constexpr std::size_t kMaxMessageBytes = 28 * 1024;
// A 429 without a usable Retry-After waits this long; a longer one is capped to this.
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

std::chrono::seconds retry_after(const std::string& header) {
    if (header.empty() || header.size() > 6 ||
        !std::all_of(header.begin(), header.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return kDefaultRetryAfter;
    return std::min(std::chrono::seconds(std::stoi(header)), kMaxRetryAfter);
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
          retry_timer_(io) {}

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
        retry_timer_.cancel();
        queue_.clear();
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
        bool token_retried = false;  // a 401 fetches a new token once
    };

    void on_validated(InboundActivity activity, const Result<Claims>& claims,
                      std::function<void(InboxAnswer)> answer) {
        if (!claims) {
            // Why it was refused helps whoever set the bot up; the token itself is never shown.
            spdlog::warn("teams: activity refused: {}", claims.error().message);
            return answer({401, "the activity's token is not valid: " + claims.error().message});
        }
        if (stopped_) return answer({503, "the Teams adapter is not running"});
        conversations_.put(base_conversation(activity.conversation_id), activity.service_url);
        if (auto* ignored = std::get_if<IgnoredActivity>(&activity.content)) {
            spdlog::debug("teams: {}", ignored->why);
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
        enqueue({"POST", std::move(conversation_id), "", std::move(body), std::move(done)});
    }

    void replace(const PostedMessage& message, std::string body) {
        if (message.message_id.empty()) return;
        enqueue({"PUT", message.channel, message.message_id, std::move(body),
                 [](Result<PostedMessage> done) {
                     if (!done) spdlog::warn("teams: edit failed: {}", done.error().message);
                 }});
    }

    void enqueue(Outbound request) {
        auto refuse = [&](std::string why) {
            boost::asio::post(
                io_, [done = std::move(request.done), why = std::move(why)] { done(fail(why)); });
        };
        if (!started_ || stopped_) return refuse("the Teams adapter is not running");
        if (conversations_.find(base_conversation(request.conversation_id)) == nullptr)
            return refuse("no serviceUrl is known for Teams conversation " +
                          request.conversation_id +
                          " (the bot answers only where it was written to)");
        if (queue_.size() >= kMaxQueued)
            return refuse("the Teams send queue is full (" + std::to_string(kMaxQueued) + ")");
        queue_.push_back(std::move(request));
        pump();
    }

    // Sends what may go now: a token is at hand, no 429 is being waited out, fewer than
    // kMaxInFlight are out.
    void pump() {
        if (stopped_) return;
        if (Clock::now() < blocked_until_) return;
        while (in_flight_ < kMaxInFlight && !queue_.empty()) {
            auto token = tokens_.current();
            if (!token) return fetch_token();
            Outbound request = std::move(queue_.front());
            queue_.pop_front();
            send(std::move(request), *token);
        }
    }

    void send(Outbound request, const std::string& token) {
        const std::string* service_url =
            conversations_.find(base_conversation(request.conversation_id));
        if (service_url == nullptr)
            return request.done(fail("the serviceUrl of Teams conversation " +
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
        ++in_flight_;
        std::weak_ptr<Session> weak = weak_from_this();
        client_->request(std::move(http), [weak, request = std::move(request)](
                                              Result<net::HttpResponse> reply) mutable {
            auto self = weak.lock();
            if (!self) return;
            --self->in_flight_;
            self->on_sent(std::move(request), reply);
            self->pump();
        });
    }

    void on_sent(Outbound request, const Result<net::HttpResponse>& reply) {
        const std::string what =
            request.method + " to Teams conversation " + request.conversation_id;
        if (!reply) return request.done(fail(what + " failed: " + reply.error().message));
        if (reply->status == 429) {
            const auto wait = retry_after(reply->header("Retry-After"));
            spdlog::info("teams: connector answered 429; waiting {} s", wait.count());
            blocked_until_ = std::max(blocked_until_, Clock::now() + wait);
            queue_.push_front(std::move(request));
            return wait_out_retry();
        }
        if (reply->status == 401 && !request.token_retried) {
            tokens_.clear();
            request.token_retried = true;
            queue_.push_front(std::move(request));
            return;
        }
        if (reply->status < 200 || reply->status >= 300)
            return request.done(fail(what + " failed: HTTP " + std::to_string(reply->status)));
        std::string id = request.activity_id;
        if (id.empty()) {
            auto body = nlohmann::json::parse(reply->body, nullptr, false);
            if (body.is_object() && body.contains("id") && body["id"].is_string())
                id = body["id"].get<std::string>();
            if (id.empty()) return request.done(fail(what + ": the connector gave no activity id"));
        }
        request.done(PostedMessage{request.conversation_id, id});
    }

    void wait_out_retry() {
        retry_timer_.expires_at(blocked_until_);
        std::weak_ptr<Session> weak = weak_from_this();
        retry_timer_.async_wait([weak](const boost::system::error_code& error) {
            auto self = weak.lock();
            if (!self || error) return;
            self->pump();
        });
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
            self->fetching_token_ = false;
            Result<ConnectorToken> token = !reply
                                               ? Result<ConnectorToken>(fail(reply.error().message))
                                               : parse_token_response(reply->body);
            if (!token) {
                // Nothing can be sent without a token: fail what waits rather than hold it.
                const std::string why = "no connector token: " + token.error().message;
                spdlog::warn("teams: {}", why);
                auto queued = std::move(self->queue_);
                self->queue_.clear();
                for (auto& request : queued) request.done(fail(why));
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
    Recent<std::string> conversations_;  // base conversation id -> validated serviceUrl
    Recent<ApprovalCard> cards_;         // approval card's activity id -> what it shows
    std::deque<Outbound> queue_;
    std::size_t in_flight_ = 0;
    Clock::time_point blocked_until_{};  // a 429's Retry-After
    boost::asio::steady_timer retry_timer_;
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
