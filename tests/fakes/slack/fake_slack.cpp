#include "fakes/slack/fake_slack.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hostline::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

json fixture(const std::string& relative_path) {
    const std::string path =
        std::string(HOSTLINE_SOURCE_DIR) + "/tests/chat/fixtures/slack/" + relative_path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
}

std::string url_decoded(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

json form_fields(std::string_view form) {
    json out = json::object();
    while (!form.empty()) {
        auto amp = form.find('&');
        std::string_view pair = form.substr(0, amp);
        auto eq = pair.find('=');
        if (eq != std::string_view::npos)
            out[url_decoded(pair.substr(0, eq))] = url_decoded(pair.substr(eq + 1));
        form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
    }
    return out;
}

TestResponse answer(const json& body, int status = 200) {
    return {status, {{"Content-Type", "application/json; charset=utf-8"}}, body.dump()};
}

}  // namespace

class FakeSlack::State {
  public:
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::vector<Call> calls;
    std::map<std::string, std::pair<int, int>> limits;  // method -> times, retry_after
    std::map<std::string, std::string> failures;        // method -> error
    std::map<std::string, std::string> users{{"U222", "Alice Example"}};
    std::vector<Posted> posted;
    std::vector<std::string> reactions;
    std::uint64_t next_ts = 100;
    std::uint64_t next_ticket = 1;
    std::set<std::string> tickets;  // handed out, not yet used
    std::vector<std::string> link_tickets;
    std::shared_ptr<WsPeer> peer;
    std::chrono::milliseconds ack_timeout{3000};
    struct Pending {
        json envelope;
        Clock::time_point sent_at;
        int deliveries = 0;
        bool acked = false;
    };
    std::map<std::string, Pending> pending;
    std::vector<std::string> acks;
    std::uint64_t next_envelope = 1;
    std::atomic<bool> stopping{false};
    std::thread redeliverer;

    std::string new_ts() { return "1700000000." + std::to_string(1000000 + next_ts++).substr(1); }

    // Sends (or resends) an envelope on the current link; the mutex is held.
    void deliver(const std::string& id) {
        Pending& p = pending[id];
        if (p.deliveries > 0) {
            p.envelope["retry_attempt"] = p.deliveries;
            p.envelope["retry_reason"] = "timeout";
        }
        ++p.deliveries;
        p.sent_at = Clock::now();
        if (peer) peer->send(p.envelope.dump());
    }

    std::string envelope(json e) {
        std::lock_guard lock(mutex);
        std::string id = "env-" + std::to_string(next_envelope++);
        e["envelope_id"] = id;
        pending[id].envelope = std::move(e);
        deliver(id);
        return id;
    }
};

FakeSlack::FakeSlack(const TestCa& ca)
    : server_(std::make_unique<TlsTestServer>(ca.server())), state_(std::make_shared<State>()) {
    auto state = state_;
    auto* server = server_.get();
    // Records the call and answers 429 or a planned failure; nullopt: answer normally.
    auto gate = [state](const std::string& method, const RecordedRequest& r,
                        const std::string& token) -> std::pair<Call*, std::optional<TestResponse>> {
        Call call;
        call.method = method;
        call.at = Clock::now();
        if (r.method == "GET") {
            auto q = r.target.find('?');
            call.params = form_fields(q == std::string::npos ? "" : r.target.substr(q + 1));
        } else if (r.header("Content-Type").find("json") != std::string::npos) {
            call.params = json::parse(r.body, nullptr, false);
        } else {
            call.params = form_fields(r.body);
        }
        state->calls.push_back(std::move(call));
        Call& c = state->calls.back();
        if (r.header("Authorization") != "Bearer " + token) {
            c.error = "invalid_auth";
            return {&c, answer({{"ok", false}, {"error", "invalid_auth"}})};
        }
        if (auto l = state->limits.find(method); l != state->limits.end() && l->second.first > 0) {
            --l->second.first;
            c.status = 429;
            c.retry_after = l->second.second;
            c.error = "ratelimited";
            TestResponse out = answer({{"ok", false}, {"error", "ratelimited"}}, 429);
            out.headers.emplace_back("Retry-After", std::to_string(l->second.second));
            return {&c, out};
        }
        if (auto f = state->failures.find(method); f != state->failures.end()) {
            c.error = f->second;
            state->failures.erase(f);
            return {&c, answer({{"ok", false}, {"error", c.error}})};
        }
        return {&c, std::nullopt};
    };
    auto route = [server, state, gate](const std::string& method, bool app_token,
                                       std::function<json(Call&)> ok) {
        auto handler = [state, gate, method, app_token, ok](const RecordedRequest& r) {
            std::lock_guard lock(state->mutex);
            auto [call, early] = gate(method, r, app_token ? kAppToken : kBotToken);
            TestResponse out = early ? *early : answer(ok(*call));
            state->changed.notify_all();
            return out;
        };
        server->on("POST", "/api/" + method, handler);
        server->on("GET", "/api/" + method, handler);
    };

    route("auth.test", false, [](Call&) {
        return json{{"ok", true},        {"url", "https://test.slack.com/"},
                    {"team", "Test"},    {"user", "hostline"},
                    {"team_id", "T111"}, {"user_id", kBotUser},
                    {"bot_id", kBotId}};
    });
    route("apps.connections.open", true, [state, server](Call&) {
        json out = fixture("web-api/apps.connections.open.ok.json");
        const std::string ticket = std::to_string(state->next_ticket++);
        state->tickets.insert(ticket);
        out["url"] = server->url("/link/?ticket=" + ticket + "&app_id=A111", "wss");
        return out;
    });
    route("chat.postMessage", false, [state](Call& c) {
        Posted p;
        p.channel = c.params.value("channel", "");
        p.ts = state->new_ts();
        p.thread_ts = c.params.value("thread_ts", "");
        p.texts.push_back(c.params.value("text", ""));
        if (c.params.contains("blocks")) p.blocks = c.params["blocks"];
        state->posted.push_back(p);
        json out = fixture("web-api/chat.postMessage.ok.json");
        out["channel"] = p.channel;
        out["ts"] = p.ts;
        out["message"]["text"] = p.text();
        out["message"]["ts"] = p.ts;
        return out;
    });
    route("chat.update", false, [state](Call& c) {
        for (Posted& p : state->posted)
            if (p.channel == c.params.value("channel", "") && p.ts == c.params.value("ts", "")) {
                p.texts.push_back(c.params.value("text", ""));
                if (c.params.contains("blocks")) p.blocks = c.params["blocks"];
                return json{{"ok", true}, {"channel", p.channel}, {"ts", p.ts}, {"text", p.text()}};
            }
        c.error = "message_not_found";
        return json{{"ok", false}, {"error", "message_not_found"}};
    });
    route("reactions.add", false, [state](Call& c) {
        const std::string r = c.params.value("channel", "") + ":" +
                              c.params.value("timestamp", "") + ":" + c.params.value("name", "");
        for (const auto& seen : state->reactions)
            if (seen == r) {
                c.error = "already_reacted";
                return json{{"ok", false}, {"error", "already_reacted"}};
            }
        state->reactions.push_back(r);
        return json{{"ok", true}};
    });
    route("users.info", false, [state](Call& c) {
        const std::string id = c.params.value("user", "");
        auto it = state->users.find(id);
        if (it == state->users.end()) {
            c.error = "user_not_found";
            return json{{"ok", false}, {"error", "user_not_found"}};
        }
        return json{{"ok", true},
                    {"user",
                     {{"id", id},
                      {"name", id},
                      {"real_name", it->second},
                      {"profile", {{"real_name", it->second}}}}}};
    });
    route("conversations.info", false, [](Call& c) {
        const std::string id = c.params.value("channel", "");
        return json{{"ok", true}, {"channel", {{"id", id}, {"name", "ops-" + id}}}};
    });

    server_->on_websocket("/link/", [state](std::shared_ptr<WsPeer> peer) {
        const std::string target = peer->upgrade_request().target;
        const auto at = target.find("ticket=");
        std::string ticket = at == std::string::npos ? "" : target.substr(at + 7);
        ticket = ticket.substr(0, ticket.find('&'));
        std::lock_guard lock(state->mutex);
        if (!state->tickets.erase(ticket)) {
            peer->close(4001, "invalid or used ticket");
            return;
        }
        state->link_tickets.push_back(ticket);
        peer->on_message([state](const std::string& text) {
            json frame = json::parse(text, nullptr, false);
            if (!frame.is_object() || !frame.contains("envelope_id")) return;
            std::lock_guard lock(state->mutex);
            const std::string id = frame["envelope_id"].get<std::string>();
            state->acks.push_back(id);
            if (auto p = state->pending.find(id); p != state->pending.end()) p->second.acked = true;
            state->changed.notify_all();
        });
        state->peer = peer;
        json hello = fixture("socket-mode/hello.json");
        hello["num_connections"] = 1;
        peer->send(hello.dump());
        state->changed.notify_all();
    });

    state_->redeliverer = std::thread([state] {
        while (!state->stopping) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::lock_guard lock(state->mutex);
            const auto now = Clock::now();
            for (auto& [id, p] : state->pending)
                if (!p.acked && p.deliveries < 4 && now - p.sent_at >= state->ack_timeout)
                    state->deliver(id);
        }
    });
}

FakeSlack::~FakeSlack() {
    state_->stopping = true;
    if (state_->redeliverer.joinable()) state_->redeliverer.join();
    server_.reset();
}

std::string FakeSlack::api_url() const {
    return server_->url("/api/");
}

std::vector<FakeSlack::Call> FakeSlack::calls(const std::string& method) const {
    std::lock_guard lock(state_->mutex);
    std::vector<Call> out;
    for (const Call& c : state_->calls)
        if (method.empty() || c.method == method) out.push_back(c);
    return out;
}

bool FakeSlack::wait_for_calls(const std::string& method, std::size_t count,
                               std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] {
        std::size_t n = 0;
        for (const Call& c : state_->calls) n += c.method == method;
        return n >= count;
    });
}

void FakeSlack::rate_limit(const std::string& method, int times, std::chrono::seconds retry_after) {
    std::lock_guard lock(state_->mutex);
    state_->limits[method] = {times, static_cast<int>(retry_after.count())};
}

void FakeSlack::fail_next(const std::string& method, const std::string& error) {
    std::lock_guard lock(state_->mutex);
    state_->failures[method] = error;
}

void FakeSlack::add_user(const std::string& id, const std::string& real_name) {
    std::lock_guard lock(state_->mutex);
    state_->users[id] = real_name;
}

std::vector<FakeSlack::Posted> FakeSlack::messages() const {
    std::lock_guard lock(state_->mutex);
    return state_->posted;
}

std::optional<FakeSlack::Posted> FakeSlack::wait_for_message(
    const std::string& part, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    std::optional<Posted> found;
    state_->changed.wait_for(lock, timeout, [&] {
        for (const Posted& p : state_->posted)
            if (p.text().find(part) != std::string::npos) {
                found = p;
                return true;
            }
        return false;
    });
    return found;
}

std::vector<std::string> FakeSlack::reactions() const {
    std::lock_guard lock(state_->mutex);
    return state_->reactions;
}

void FakeSlack::set_ack_timeout(std::chrono::milliseconds timeout) {
    std::lock_guard lock(state_->mutex);
    state_->ack_timeout = timeout;
}

std::size_t FakeSlack::links_opened() const {
    std::lock_guard lock(state_->mutex);
    return state_->link_tickets.size();
}

bool FakeSlack::wait_for_links(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout,
                                    [&] { return state_->link_tickets.size() >= count; });
}

std::vector<std::string> FakeSlack::link_tickets() const {
    std::lock_guard lock(state_->mutex);
    return state_->link_tickets;
}

bool FakeSlack::link_open() const {
    std::lock_guard lock(state_->mutex);
    return state_->peer && state_->peer->is_open();
}

namespace {

// What send_message's envelope carries: an event_callback from the SDK fixture.
json message_payload(const std::string& event_id, const std::string& message_ts,
                     const std::string& user, const std::string& channel, const std::string& text,
                     const std::string& thread_ts) {
    json payload = fixture("socket-mode/events_api-message.json")["payload"];
    payload["event_id"] = event_id;
    json& event = payload["event"];
    event["user"] = user;
    event["channel"] = channel;
    event["text"] = text;
    event["ts"] = message_ts;
    event["event_ts"] = message_ts;
    event["channel_type"] = !channel.empty() && channel[0] == 'D' ? "im" : "channel";
    if (!thread_ts.empty()) event["thread_ts"] = thread_ts;
    payload["authorizations"][0]["user_id"] = FakeSlack::kBotUser;
    return payload;
}

// What send_click's envelope carries: a block_actions payload from the SDK fixture.
json click_payload(const std::string& user, const std::string& channel,
                   const std::string& message_ts, const std::string& action_id,
                   std::int64_t job_id) {
    json p = fixture("socket-mode/interactive-block_actions-button.json")["payload"];
    p["user"]["id"] = user;
    p["user"]["username"] = p["user"]["name"] = "user-" + user;
    p["container"]["channel_id"] = channel;
    p["container"]["message_ts"] = message_ts;
    p["channel"]["id"] = channel;
    p["message"]["ts"] = message_ts;
    p["message"]["bot_id"] = FakeSlack::kBotId;
    json& action = p["actions"][0];
    action["action_id"] = action_id;
    action["block_id"] = "hostline_approval:" + std::to_string(job_id);
    action["value"] = std::to_string(job_id);
    return p;
}

std::string hex(const unsigned char* bytes, unsigned size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < size; ++i) {
        out += kDigits[bytes[i] >> 4];
        out += kDigits[bytes[i] & 15];
    }
    return out;
}

// A form value: everything but unreserved characters %-escaped.
std::string form_escape(const std::string& text) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string FakeSlack::send_message(const std::string& user, const std::string& channel,
                                    const std::string& text, std::string* ts,
                                    const std::string& thread_ts) {
    json e = fixture("socket-mode/events_api-message.json");
    std::string message_ts, event_id;
    {
        std::lock_guard lock(state_->mutex);
        message_ts = state_->new_ts();
        event_id = "Ev" + std::to_string(state_->next_envelope);
    }
    e["payload"] = message_payload(event_id, message_ts, user, channel, text, thread_ts);
    if (ts != nullptr) *ts = message_ts;
    return state_->envelope(std::move(e));
}

FakeSlack::SignedRequest FakeSlack::message_request(const std::string& user,
                                                    const std::string& channel,
                                                    const std::string& text, std::string* ts,
                                                    std::chrono::seconds age) {
    std::string message_ts, event_id;
    {
        std::lock_guard lock(state_->mutex);
        message_ts = state_->new_ts();
        event_id = "EvHttp" + std::to_string(state_->next_envelope++);
    }
    if (ts != nullptr) *ts = message_ts;
    return sign("application/json",
                message_payload(event_id, message_ts, user, channel, text, "").dump(), age);
}

FakeSlack::SignedRequest FakeSlack::click_request(const std::string& user,
                                                  const std::string& channel,
                                                  const std::string& message_ts,
                                                  const std::string& action_id,
                                                  std::int64_t job_id) {
    return sign(
        "application/x-www-form-urlencoded",
        "payload=" +
            form_escape(click_payload(user, channel, message_ts, action_id, job_id).dump()));
}

FakeSlack::SignedRequest FakeSlack::url_verification_request() {
    return sign("application/json", fixture("http/url_verification.json").dump());
}

FakeSlack::SignedRequest FakeSlack::sign(const std::string& content_type, std::string body,
                                         std::chrono::seconds age, const std::string& secret) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    const std::string timestamp = std::to_string((now - age).count());
    const std::string base = "v0:" + timestamp + ":" + body;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(base.data()), base.size(), digest, &size);
    return {{{"Content-Type", content_type},
             {"X-Slack-Request-Timestamp", timestamp},
             {"X-Slack-Signature", "v0=" + hex(digest, size)}},
            std::move(body)};
}

std::string FakeSlack::redeliver(const std::string& envelope_id) {
    json copy;
    {
        std::lock_guard lock(state_->mutex);
        auto it = state_->pending.find(envelope_id);
        if (it == state_->pending.end()) return "";
        copy = it->second.envelope;
        copy["retry_attempt"] = it->second.deliveries;
        copy["retry_reason"] = "timeout";
    }
    return state_->envelope(std::move(copy));
}

std::string FakeSlack::send_click(const std::string& user, const std::string& channel,
                                  const std::string& message_ts, const std::string& action_id,
                                  std::int64_t job_id) {
    json e = fixture("socket-mode/interactive-block_actions-button.json");
    e["payload"] = click_payload(user, channel, message_ts, action_id, job_id);
    return state_->envelope(std::move(e));
}

void FakeSlack::send_disconnect(const std::string& reason) {
    std::lock_guard lock(state_->mutex);
    if (state_->peer)
        state_->peer->send(json{
            {"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "applink-1"}}}}
                               .dump());
}

void FakeSlack::drop_link() {
    std::lock_guard lock(state_->mutex);
    if (state_->peer) state_->peer->drop();
}

std::vector<std::string> FakeSlack::acks() const {
    std::lock_guard lock(state_->mutex);
    return state_->acks;
}

bool FakeSlack::wait_for_ack(const std::string& envelope_id,
                             std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, timeout, [&] {
        for (const auto& a : state_->acks)
            if (a == envelope_id) return true;
        return false;
    });
}

int FakeSlack::deliveries(const std::string& envelope_id) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->pending.find(envelope_id);
    return it == state_->pending.end() ? 0 : it->second.deliveries;
}

}  // namespace hostline::testing
