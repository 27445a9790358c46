// The Slack adapter joins the protocol pieces of chat/slack to chat/net's HTTPS and WSS
// clients. One Session owns the links, the Web API queue and the timers; every handler holds
// the session and does nothing once it has stopped.
#include "chat/slack/slack_adapter.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "chat/backoff.hpp"
#include "chat/net/https_client.hpp"
#include "chat/net/retry_after.hpp"
#include "chat/net/url.hpp"
#include "chat/net/wss_client.hpp"
#include "chat/slack/blocks.hpp"
#include "chat/slack/edit_throttle.hpp"
#include "chat/slack/event_dedupe.hpp"
#include "chat/slack/events.hpp"
#include "chat/slack/events_request.hpp"
#include "chat/slack/mrkdwn.hpp"
#include "chat/slack/name_cache.hpp"
#include "chat/slack/request_signature.hpp"
#include "chat/slack/retry_after_gate.hpp"
#include "chat/slack/socket_mode.hpp"
#include "chat/slack/web_api.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"slack"};

namespace hostline::chat::slack {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// What limits() promises the chat service; escaping may grow it, cut_to_fit then cuts at
// kMessageTextLimit.
constexpr std::size_t kMaxMessageBytes = 3500;
// A transport failure or a 5xx is tried this many times in all, a second apart; a 429 is tried
// until it goes through (Slack said when).
constexpr int kMaxAttempts = 3;
constexpr std::chrono::seconds kTransientWait{1};
constexpr std::chrono::seconds kDefaultRetryAfter{1};
constexpr std::size_t kNameCacheSize = 5000;
constexpr std::chrono::minutes kNameTtl{60};

// The job a reply is about ("job #42 ..."), for the link in a cut note.
JobLink link_in(std::string_view text, const std::string& job_url_base) {
    JobLink link;
    const auto at = text.find("job #");
    if (at == std::string_view::npos) return link;
    const char* begin = text.data() + at + 5;
    std::from_chars(begin, text.data() + text.size(), link.job_id);
    if (link.job_id > 0 && !job_url_base.empty())
        link.url = job_url_base + std::to_string(link.job_id);
    return link;
}

}  // namespace

class SlackAdapter::Session : public std::enable_shared_from_this<Session> {
  public:
    Session(asio::io_context& io, SlackConfig config)
        : io_(io),
          config_(std::move(config)),
          throttle_(config_.edit_interval),
          names_(kNameCacheSize, kNameTtl),
          dispatch_timer_(io),
          edit_timer_(io),
          reconnect_timer_(io),
          backoff_(config_.reconnect_min, config_.reconnect_max) {}

    Result<void> start(Listener listener) {
        if (started_) return fail("the Slack adapter is already started");
        const bool events_api = config_.mode == SlackMode::events_api;
        if (!events_api && config_.app_token.empty())
            return fail("slack: the app-level token (xapp-) is empty; Socket Mode needs it");
        if (events_api && config_.signing_secret.empty())
            return fail("slack: the signing secret is empty; the Events API needs it");
        if (config_.bot_token.empty()) return fail("slack: the bot token (xoxb-) is empty");
        auto url = net::parse_url(config_.api_url);
        if (!url || url->scheme != "https" || config_.api_url.back() != '/')
            return fail("slack: api_url must be an https:// URL ending in '/', e.g. " +
                        std::string("https://slack.com/api/"));
        if (config_.reconnect_min.count() <= 0 || config_.reconnect_max < config_.reconnect_min)
            return fail("slack: need 0 < reconnect_min <= reconnect_max");
        net::HttpsClientOptions options;
        options.tls.ca_file = config_.ca_file;
        auto http = net::HttpsClient::create(io_, options);
        if (!http) return fail("slack: " + http.error().message);
        http_ = std::move(*http);
        listener_ = std::move(listener);
        started_ = true;
        backoff_.reset();
        logger->info("{} through {}",
                     events_api ? "Events API at /chat/slack/events, Web API" : "Socket Mode",
                     url->authority());
        asio::post(io_, [self = shared_from_this()] {
            if (!self->stopped_) self->ask_who_we_are();
        });
        return {};
    }

    void stop() {
        if (stopped_) return;
        stopped_ = true;
        links_.clear();  // no callback runs after a WssClient is destroyed
        http_.reset();   // nor after the HttpsClient is
        queues_.clear();
        error_code ignored;
        dispatch_timer_.cancel(ignored);
        edit_timer_.cancel(ignored);
        reconnect_timer_.cancel(ignored);
        if (started_) logger->info("stopped");
    }

    std::chrono::milliseconds edit_interval() const { return config_.edit_interval; }

    // ---- what the chat service asks ----

    void post(const std::string& channel, const std::string& thread, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) {
        auto body = post_message_body({channel, shown(text), thread, ""});
        post_body(channel, std::move(body), std::move(done));
    }

    void post_approval_request(const std::string& channel, const std::string& thread,
                               const std::string& text, std::int64_t job_id,
                               std::function<void(Result<PostedMessage>)> done) {
        ApprovalRequest request{channel, thread, job_id, escape(text),
                                link_in(text, config_.job_url_base).url};
        post_body(channel, approval_request_body(request), std::move(done));
    }

    void edit(const PostedMessage& message, const std::string& text) {
        if (stopped_ || message.message_id.empty()) return;
        if (auto now = throttle_.offer(message, shown(text), Clock::now()))
            send_update(message, *now, "");
        arm_edit_timer();
    }

    void show_decision(const PostedMessage& request, const std::string& text) {
        if (stopped_ || request.message_id.empty()) return;
        send_update(request, shown(text), "[]");  // no blocks: the buttons go
    }

    void react(const IncomingMessage& to, const std::string& emoji) {
        if (stopped_ || to.message_id.empty()) return;
        call({"reactions.add", false, false, reaction_body(to.channel, to.message_id, emoji),
              [](Result<std::string> body) {
                  if (!body) return logger->warn("reactions.add: {}", body.error().message);
                  auto answer = parse_api_response(*body);
                  if (answer && !answer->ok && !is_harmless(answer->error))
                      logger->warn("reactions.add failed: {}", answer->error);
              }});
    }

    // ---- the Events API over HTTP ----

    void receive(InboundCall call, std::function<void(InboundAnswer)> answer) {
        const auto refuse = [&answer](unsigned status, std::string why) {
            answer({status, "application/json", std::move(why)});
        };
        if (!started_ || stopped_) return refuse(503, "the Slack adapter is not running");
        if (config_.mode != SlackMode::events_api)
            return refuse(404, "Slack is connected by Socket Mode here, not the Events API");
        const auto timestamp = header_value(call.headers, "X-Slack-Request-Timestamp");
        const auto signature = header_value(call.headers, "X-Slack-Signature");
        auto verified = verify_signature(
            config_.signing_secret, {timestamp.value_or(""), signature.value_or(""), call.body},
            std::chrono::system_clock::now());
        if (!verified) {
            logger->warn("refused a request to /chat/slack/events: {}", verified.error().message);
            return refuse(401, verified.error().message);
        }
        auto request =
            read_events_request(header_value(call.headers, "Content-Type").value_or(""), call.body);
        if (!request) {
            logger->warn("a signed request we cannot read: {}", request.error().message);
            return refuse(400, request.error().message);
        }
        using Kind = EventsRequest::Kind;
        if (request->kind == Kind::url_verification) {
            logger->info("answered Slack's url_verification of /chat/slack/events");
            return answer({200, "text/plain", std::move(request->challenge)});
        }
        if (request->kind == Kind::other) {
            logger->debug("ignoring an Events API request of type {}", request->type);
            return answer({200, "text/plain", ""});
        }
        // Mentions of the bot cannot be read before auth.test says who it is; Slack retries.
        if (bot_.user_id.empty()) return refuse(503, "still asking Slack who the bot is");
        std::int64_t retry = 0;
        if (auto num = header_value(call.headers, "X-Slack-Retry-Num"))
            std::from_chars(num->data(), num->data() + num->size(), retry);
        // Answered first, handled after: Slack counts a reply later than 3 s as a failure.
        answer({200, "text/plain", ""});
        asio::post(io_, [self = shared_from_this(), request = std::move(*request), retry] {
            if (self->stopped_) return;
            if (request.kind == Kind::event_callback)
                return self->handle_event(request.payload, retry);
            self->handle_click(request.payload);
        });
    }

  private:
    // One Web API call waiting in its method's queue.
    struct ApiCall {
        std::string method;      // "chat.postMessage"
        bool app_token = false;  // apps.connections.open; every other method: the bot token
        bool get = false;        // payload is a query string, else a JSON body
        std::string payload;
        // The body of an HTTP 200 (whatever its "ok"), or why there is none.
        std::function<void(Result<std::string>)> done;
        int attempts = 0;
    };

    // ---- text ----

    std::string shown(const std::string& text) const {
        std::string escaped = escape(text);
        if (slack_length(escaped) <= kMessageTextLimit) return escaped;
        return cut_to_fit(escaped, kMessageTextLimit, link_in(text, config_.job_url_base));
    }

    void post_body(const std::string& channel, Result<std::string> body,
                   std::function<void(Result<PostedMessage>)> done) {
        if (!body) return later(std::move(done), body.error());
        call({"chat.postMessage", false, false, std::move(*body),
              [channel, done = std::move(done)](Result<std::string> reply) {
                  if (!done) return;
                  if (!reply) return done(reply.error());
                  auto answer = parse_api_response(*reply);
                  if (!answer) return done(answer.error());
                  if (!answer->ok) return done(fail("chat.postMessage failed: " + answer->error));
                  done(PostedMessage{answer->channel.empty() ? channel : answer->channel,
                                     answer->ts});
              }});
    }

    void send_update(const PostedMessage& message, const std::string& text,
                     const std::string& blocks) {
        auto body = update_message_body({message.channel, message.message_id, text, blocks});
        if (!body) return logger->warn("chat.update not sent: {}", body.error().message);
        call({"chat.update", false, false, std::move(*body), [](Result<std::string> reply) {
                  if (!reply) return logger->warn("chat.update: {}", reply.error().message);
                  auto answer = parse_api_response(*reply);
                  if (answer && !answer->ok) logger->warn("chat.update failed: {}", answer->error);
              }});
    }

    void arm_edit_timer() {
        auto due = throttle_.next_due();
        if (!due) return;
        edit_timer_.expires_at(*due);
        edit_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (ec || self->stopped_) return;
            for (auto& edit : self->throttle_.take_due(Clock::now()))
                self->send_update(edit.message, edit.text, "");
            self->arm_edit_timer();
        });
    }

    template <typename Done>
    void later(Done done, Error error) {
        if (!done) return;
        asio::post(io_, [done = std::move(done), error = std::move(error)]() mutable {
            done(std::move(error));
        });
    }

    // ---- the Web API queue ----

    void call(ApiCall c) {
        if (stopped_) return;
        if (queued_ >= config_.max_queued_calls) {
            logger->warn("{} not sent: {} calls are waiting already", c.method, queued_);
            return later(std::move(c.done), Error{"the Slack call queue is full (" +
                                                  std::to_string(queued_) + " waiting)"});
        }
        ++queued_;
        queues_[c.method].push_back(std::move(c));
        dispatch();
    }

    // Sends the first call of every method that is neither busy nor held by a 429, and wakes
    // up when the earliest held one may go.
    void dispatch() {
        if (stopped_) return;
        const auto now = Clock::now();
        std::optional<Clock::duration> soonest;
        for (auto& [method, queue] : queues_) {
            if (queue.empty() || busy_.count(method)) continue;
            const auto wait = gate_.wait_before(method, now);
            if (wait > Clock::duration::zero()) {
                soonest = soonest ? std::min(*soonest, wait) : wait;
                continue;
            }
            ApiCall c = std::move(queue.front());
            queue.pop_front();
            --queued_;
            send(std::move(c));
        }
        if (!soonest) return;
        dispatch_timer_.expires_at(now + *soonest);
        dispatch_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            if (!ec) self->dispatch();
        });
    }

    void send(ApiCall c) {
        busy_.insert(c.method);
        ++c.attempts;
        net::HttpRequest request;
        request.method = c.get ? "GET" : "POST";
        request.url = config_.api_url + c.method + (c.get ? "?" + c.payload : "");
        request.headers.emplace_back(
            "Authorization", "Bearer " + (c.app_token ? config_.app_token : config_.bot_token));
        if (!c.get) {
            request.headers.emplace_back("Content-Type", c.payload.empty()
                                                             ? "application/x-www-form-urlencoded"
                                                             : "application/json; charset=utf-8");
            request.body = c.payload;
        }
        http_->request(std::move(request), [self = shared_from_this(), c = std::move(c)](
                                               Result<net::HttpResponse> reply) mutable {
            if (self->stopped_) return;
            self->on_reply(std::move(c), std::move(reply));
        });
    }

    void on_reply(ApiCall c, Result<net::HttpResponse> reply) {
        busy_.erase(c.method);
        const auto now = Clock::now();
        if (reply && reply->status == 429) {
            const auto wait = net::retry_after_wait(
                reply->header("Retry-After"), std::chrono::system_clock::now(),
                {.fallback = kDefaultRetryAfter, .longest = RetryAfterGate::kLongestWait});
            logger->info("{} rate limited; waiting {} s", c.method, wait.count());
            gate_.on_rate_limited(c.method, wait, now);
            --c.attempts;  // Slack said when: this try does not count
            requeue(std::move(c));
        } else if (!reply || reply->status >= 500) {
            const std::string why =
                reply ? "HTTP " + std::to_string(reply->status) : reply.error().message;
            if (c.attempts < kMaxAttempts) {
                logger->info("{} failed ({}); trying again in {} s", c.method, why,
                             kTransientWait.count());
                gate_.on_rate_limited(c.method, kTransientWait, now);
                requeue(std::move(c));
            } else if (c.done) {
                c.done(fail("slack " + c.method + ": " + why));
            }
        } else if (reply->status != 200) {
            if (c.done)
                c.done(fail("slack " + c.method + ": HTTP " + std::to_string(reply->status)));
        } else if (c.done) {
            c.done(std::move(reply->body));
        }
        dispatch();
    }

    // Back at the front of its queue: a call that waited keeps its place before later ones.
    void requeue(ApiCall c) {
        ++queued_;
        auto& queue = queues_[c.method];
        queue.push_front(std::move(c));
    }

    // ---- the Socket Mode link ----

    void ask_who_we_are() {
        call({"auth.test", false, false, "", [self = shared_from_this()](Result<std::string> body) {
                  Result<BotIdentity> bot = body ? parse_auth_test(*body) : body.error();
                  if (!bot) {
                      logger->warn("auth.test: {}", bot.error().message);
                      return self->schedule_reconnect();
                  }
                  self->bot_ = *bot;
                  logger->info("the bot is user {}", bot->user_id);
                  if (self->config_.mode == SlackMode::socket_mode) self->open_link();
              }});
    }

    // apps.connections.open gives a fresh URL each time; Slack wants one for every link.
    void open_link() {
        if (stopped_ || link_disabled_ || opening_) return;
        opening_ = true;
        call({"apps.connections.open", true, false, "",
              [self = shared_from_this()](Result<std::string> body) {
                  Result<std::string> url = body ? parse_connections_open(*body) : body.error();
                  if (!url) {
                      self->opening_ = false;
                      logger->warn("apps.connections.open: {}", url.error().message);
                      return self->schedule_reconnect();
                  }
                  self->connect(*url);
              }});
    }

    void connect(const std::string& url) {
        net::WssOptions options;
        options.tls.ca_file = config_.ca_file;
        options.idle_timeout = config_.idle_timeout;
        auto client = net::WssClient::create(io_, options);
        if (!client) {
            opening_ = false;
            logger->warn("{}", client.error().message);
            return schedule_reconnect();
        }
        const std::uint64_t id = ++last_link_;
        auto& link = links_[id];
        link = std::move(*client);
        std::weak_ptr<Session> weak = shared_from_this();
        link->connect(url, {},
                      {[weak, id](Result<void> opened) {
                           if (auto self = weak.lock(); self && !self->stopped_)
                               self->on_link_open(id, std::move(opened));
                       },
                       [weak, id](const std::string& text) {
                           if (auto self = weak.lock(); self && !self->stopped_)
                               self->on_frame(id, text);
                       },
                       [weak, id](const net::WssClosed& closed) {
                           if (auto self = weak.lock(); self && !self->stopped_)
                               self->on_link_closed(id, closed.reason);
                       }});
    }

    void on_link_open(std::uint64_t id, Result<void> opened) {
        opening_ = false;
        if (!opened) {
            drop_link(id);
            logger->warn("cannot open the Socket Mode link: {}", opened.error().message);
            return schedule_reconnect();
        }
        current_ = id;
        // A refresh keeps the old link until the new one is open, so no event is missed.
        std::vector<std::uint64_t> old;
        for (auto& [other, link] : links_)
            if (other != id) old.push_back(other);
        for (auto other : old) {
            links_[other]->close();
            drop_link(other);
        }
        logger->info("Socket Mode link open");
    }

    void on_link_closed(std::uint64_t id, const std::string& why) {
        drop_link(id);
        if (id != current_) return;  // an old link, already replaced
        current_ = 0;
        logger->info("the Socket Mode link closed: {}", why);
        if (listener_.on_disconnected) listener_.on_disconnected(why);
        schedule_reconnect();
    }

    // Destroyed later: the client may be calling us right now.
    void drop_link(std::uint64_t id) {
        auto it = links_.find(id);
        if (it == links_.end()) return;
        std::shared_ptr<net::WssClient> gone(std::move(it->second));
        links_.erase(it);
        asio::post(io_, [gone] {});
    }

    void on_frame(std::uint64_t id, const std::string& text) {
        auto frame = parse_frame(text);
        if (!frame) {
            // Acked all the same, or Slack would send it again and again.
            if (auto envelope_id = envelope_id_of(text); !envelope_id.empty()) ack(id, envelope_id);
            return logger->warn("a frame we cannot read: {}", frame.error().message);
        }
        if (const auto* hello = std::get_if<Hello>(&*frame)) {
            backoff_.reset();
            return logger->info("hello ({} connection(s) open)", hello->num_connections);
        }
        if (const auto* disconnect = std::get_if<Disconnect>(&*frame))
            return on_disconnect_frame(id, *disconnect);
        auto envelope = std::get<Envelope>(std::move(*frame));
        // Ack first, then work: Slack redelivers what is not acked within seconds.
        ack(id, envelope.envelope_id);
        asio::post(io_, [self = shared_from_this(), envelope = std::move(envelope)] {
            if (!self->stopped_) self->handle(envelope);
        });
    }

    void ack(std::uint64_t id, const std::string& envelope_id) {
        auto it = links_.find(id);
        if (it == links_.end()) return;
        auto frame = ack_frame(envelope_id);
        if (!frame) return;
        if (auto sent = it->second->send(std::move(*frame)); !sent)
            logger->warn("ack not sent: {}", sent.error().message);
    }

    void on_disconnect_frame(std::uint64_t id, const Disconnect& d) {
        logger->info("Slack asks to disconnect ({})", d.reason_text);
        switch (plan_for(d.reason)) {
            case ReconnectPlan::open_new_then_close_old:
                open_link();
                return;
            case ReconnectPlan::close_then_reconnect:
                if (auto it = links_.find(id); it != links_.end()) it->second->close();
                drop_link(id);
                if (id == current_) current_ = 0;
                open_link();
                return;
            case ReconnectPlan::stop_and_report: {
                link_disabled_ = true;
                for (auto& [other, link] : links_) link->close();
                std::vector<std::uint64_t> all;
                for (auto& [other, link] : links_) all.push_back(other);
                for (auto other : all) drop_link(other);
                current_ = 0;
                const std::string why = "Socket Mode is turned off in the Slack app's settings (" +
                                        d.reason_text + "); turn it on and restart the controller";
                logger->error("{}", why);
                if (listener_.on_disconnected) listener_.on_disconnected(why);
                return;
            }
        }
    }

    void schedule_reconnect() {
        if (stopped_ || link_disabled_ || reconnect_armed_) return;
        reconnect_armed_ = true;
        const auto wait = backoff_.next();
        logger->info("reconnecting in {} ms", wait.count());
        reconnect_timer_.expires_after(wait);
        reconnect_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
            self->reconnect_armed_ = false;
            if (ec || self->stopped_) return;
            if (self->bot_.user_id.empty()) return self->ask_who_we_are();
            self->open_link();
        });
    }

    // ---- envelopes ----

    void handle(const Envelope& envelope) {
        if (!envelopes_.first_time(envelope.envelope_id)) return;
        if (envelope.type == EnvelopeType::events_api)
            return handle_event(envelope.payload, envelope.retry_attempt);
        if (envelope.type == EnvelopeType::interactive) return handle_click(envelope.payload);
        logger->debug("ignoring a slash command envelope");
    }

    // An event_callback, from a Socket Mode envelope or an Events API request; `retry` is
    // Slack's count of earlier deliveries.
    void handle_event(const std::string& payload, std::int64_t retry) {
        auto event = read_events_api(payload, bot_);
        if (!event) return logger->warn("{}", event.error().message);
        if (!events_.first_time(event->event_id))
            return logger->debug("event {} again (retry {}); handled already", event->event_id,
                                 retry);
        if (!event->message)
            return logger->debug("ignoring {}: {}", event->event_id, event->ignored_because);
        // `message` and `app_mention` of one message: the same channel:ts.
        if (!messages_.first_time(event->message_key)) return;
        IncomingMessage m = std::move(*event->message);
        // A mention later in the text arrives as app_mention (mentions_bot) and as a message
        // (not): both must read the same, whichever comes first.
        m.addressed = event->mentions_bot || m.direct_message ||
                      m.text.find("@" + bot_.user_id) != std::string::npos;
        const std::string user = m.sender.id.substr(m.sender.id.find(':') + 1);
        const std::string channel = m.direct_message ? "" : m.channel;
        with_name(user, [self = shared_from_this(), channel,
                         m = std::move(m)](std::string name) mutable {
            m.sender.display_name = std::move(name);
            self->with_channel_name(channel, [self, m = std::move(m)](std::string name) mutable {
                if (!name.empty()) m.channel_name = "#" + name;
                if (self->listener_.on_message) self->listener_.on_message(m);
            });
        });
    }

    void handle_click(const std::string& payload) {
        auto action = read_interactive(payload);
        if (!action) return logger->warn("{}", action.error().message);
        if (!*action) return logger->debug("ignoring an interaction that is not ours");
        ApprovalAction a = std::move(**action);
        const std::string user = a.user.id.substr(a.user.id.find(':') + 1);
        with_name(user, [self = shared_from_this(), a = std::move(a)](std::string name) mutable {
            a.user.display_name = std::move(name);
            if (self->listener_.on_approval_action) self->listener_.on_approval_action(a);
        });
    }

    // Calls `then` with the user's name, from the cache or users.info; with "" when Slack
    // cannot say (the chat service then shows the id).
    void with_name(const std::string& user, std::function<void(std::string)> then) {
        look_up("users.info", users_info_query(user), user, parse_user_name, std::move(then));
    }

    // The same for a channel's name (conversations.info); "" for none (a direct message).
    void with_channel_name(const std::string& channel, std::function<void(std::string)> then) {
        if (channel.empty()) return then("");
        look_up("conversations.info", conversations_info_query(channel), channel,
                parse_channel_name, std::move(then));
    }

    // Users and channels share one cache: their ids never collide (U…/W… and C…/G…).
    void look_up(const std::string& method, std::string query, const std::string& id,
                 Result<std::string> (*parse)(std::string_view),
                 std::function<void(std::string)> then) {
        if (auto name = names_.find(id, Clock::now())) return then(*name);
        call({method, false, true, std::move(query),
              [self = shared_from_this(), method, id, parse,
               then = std::move(then)](Result<std::string> body) {
                  Result<std::string> name = body ? parse(*body) : body.error();
                  if (!name) {
                      logger->info("{}: no name for {}: {}", method, id, name.error().message);
                      return then("");
                  }
                  self->names_.put(id, *name, Clock::now());
                  then(std::move(*name));
              }});
    }

    // Constant after construction:
    asio::io_context& io_;
    const SlackConfig config_;

    // Used on the io_context thread only:
    Listener listener_;
    bool started_ = false;
    bool stopped_ = false;
    std::unique_ptr<net::HttpsClient> http_;
    BotIdentity bot_;
    // The Web API: calls waiting per method, the methods with a call in flight, the 429 gate.
    std::map<std::string, std::deque<ApiCall>> queues_;
    std::size_t queued_ = 0;
    std::set<std::string> busy_;
    RetryAfterGate gate_;
    EditThrottle throttle_;
    NameCache names_;
    EventDedupe envelopes_, events_, messages_;
    // The links by number: the current one, and during a refresh the one replacing it.
    std::map<std::uint64_t, std::unique_ptr<net::WssClient>> links_;
    std::uint64_t last_link_ = 0;
    std::uint64_t current_ = 0;
    bool opening_ = false;  // apps.connections.open or a connect in progress
    bool link_disabled_ = false;
    bool reconnect_armed_ = false;
    asio::steady_timer dispatch_timer_, edit_timer_, reconnect_timer_;
    Backoff backoff_;  // between reconnects
};

SlackAdapter::SlackAdapter(asio::io_context& io, SlackConfig config)
    : session_(std::make_shared<Session>(io, std::move(config))) {}

SlackAdapter::~SlackAdapter() {
    session_->stop();
}

PlatformLimits SlackAdapter::limits() const {
    PlatformLimits limits;
    limits.max_message_bytes = kMaxMessageBytes;
    limits.can_edit = true;
    limits.has_threads = true;
    limits.min_edit_interval = session_->edit_interval();
    return limits;
}

Result<void> SlackAdapter::start(Listener listener) {
    return session_->start(std::move(listener));
}

void SlackAdapter::stop() {
    session_->stop();
}

void SlackAdapter::post(const std::string& channel, const std::string& thread,
                        const std::string& text, std::function<void(Result<PostedMessage>)> done) {
    session_->post(channel, thread, text, std::move(done));
}

void SlackAdapter::edit(const PostedMessage& message, const std::string& text) {
    session_->edit(message, text);
}

void SlackAdapter::react(const IncomingMessage& to, const std::string& emoji) {
    session_->react(to, emoji);
}

void SlackAdapter::post_approval_request(const std::string& channel, const std::string& thread,
                                         const std::string& text, std::int64_t job_id,
                                         std::function<void(Result<PostedMessage>)> done) {
    session_->post_approval_request(channel, thread, text, job_id, std::move(done));
}

void SlackAdapter::show_decision(const PostedMessage& request, const std::string& text) {
    session_->show_decision(request, text);
}

void SlackAdapter::receive(InboundCall call, std::function<void(InboundAnswer)> answer) {
    session_->receive(std::move(call), std::move(answer));
}

}  // namespace hostline::chat::slack
