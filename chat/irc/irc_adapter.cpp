// The only file that calls Asio and OpenSSL for IRC. A Session owns one connection at a
// time; every handler carries the generation of the connection it was started for and does
// nothing when that connection has since been replaced or the adapter stopped.
#include "chat/irc/irc_adapter.hpp"

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cmath>
#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "chat/backoff.hpp"
#include "chat/irc/irc_message.hpp"
#include "chat/irc/irc_text.hpp"
#include "chat/irc/sasl.hpp"
#include "chat/irc/token_bucket.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"irc"};

namespace hostline::chat::irc {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxQueuedLines = 1000;
constexpr std::chrono::seconds kRejoinDelay{2};
// Keepalive: after this much silence we PING the server; after twice it, the link is dead.
constexpr std::chrono::seconds kPingAfterSilence{60};
constexpr std::chrono::seconds kWatchdogTick{15};
constexpr std::string_view kWantedCaps[] = {"message-tags", "account-tag", "server-time", "sasl"};
// When our host as others see it is not known yet: long enough for any real host.
constexpr std::size_t kAssumedHostBytes = 64;

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool same_nick(std::string_view a, std::string_view b) {
    return lower_ascii(a) == lower_ascii(b);
}

bool is_channel(std::string_view target) {
    return !target.empty() &&
           std::string_view("#&+!").find(target.front()) != std::string_view::npos;
}

// A word we put in a command: no separators, no controls.
bool is_plain_word(std::string_view s) {
    if (s.empty() || s.front() == ':') return false;
    return std::none_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == ',' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

std::vector<std::string> split_words(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        std::size_t j = i;
        while (j < s.size() && s[j] != ' ') ++j;
        if (j > i) out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

}  // namespace

class IrcAdapter::Session : public std::enable_shared_from_this<Session> {
  public:
    Session(asio::io_context& io, IrcConfig config)
        : io_(io),
          config_(std::move(config)),
          resolver_(io),
          reconnect_timer_(io),
          send_timer_(io),
          watchdog_(io),
          regain_timer_(io),
          bucket_(config_.messages_per_second > 0 && std::isfinite(config_.messages_per_second)
                      ? config_.messages_per_second
                      : 1.0,
                  std::isfinite(config_.burst) ? config_.burst : 1.0),
          backoff_(config_.reconnect_min, config_.reconnect_max) {}

    Result<void> start(Listener listener) {
        if (started_) return fail("the IRC adapter is already started");
        if (auto checked = check_config(); !checked) return checked;
        if (auto made = make_tls_context(); !made) return made;
        listener_ = std::move(listener);
        started_ = true;
        stopped_ = false;
        nick_ = config_.nick;
        backoff_.reset();
        logger->info("connecting to {}:{} as {} ({})", config_.host, config_.port, config_.nick,
                     config_.tls ? "TLS" : "plain TCP");
        asio::post(io_, [self = shared_from_this(), gen = generation_] {
            if (gen == self->generation_) self->connect();
        });
        return {};
    }

    void stop() {
        if (stopped_) return;
        stopped_ = true;
        ++generation_;
        say_goodbye();
        close_socket();
        error_code ignored;
        reconnect_timer_.cancel(ignored);
        send_timer_.cancel(ignored);
        watchdog_.cancel(ignored);
        regain_timer_.cancel(ignored);
        resolver_.cancel();
        outgoing_.clear();
        if (started_) logger->info("stopped");
    }

    void post(const std::string& channel, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) {
        auto reply = [this, done = std::move(done)](Result<PostedMessage> result) {
            if (!done) return;
            asio::post(io_,
                       [done, result = std::move(result)]() mutable { done(std::move(result)); });
        };
        if (!is_plain_word(channel)) {
            reply(fail("'" + channel + "' is not an IRC channel or nick"));
            return;
        }
        const std::string prefix = own_prefix_.empty() ? nick_ + "!~" + config_.user + "@" +
                                                             std::string(kAssumedHostBytes, 'x')
                                                       : own_prefix_;
        const std::size_t limit = privmsg_payload_limit(prefix, channel);
        if (limit == 0) {
            reply(fail("the target '" + channel + "' leaves no room for a message"));
            return;
        }
        std::vector<std::string> lines;
        for (const auto& payload : split_for_privmsg(sanitize_outgoing(text), limit)) {
            auto line = format_line("PRIVMSG", {channel, payload});
            if (!line) {
                logger->warn("dropping a line to {}: {}", channel, line.error().message);
                continue;
            }
            lines.push_back(std::move(*line));
        }
        if (outgoing_.size() + lines.size() > kMaxQueuedLines) {
            reply(fail("the IRC send queue is full (" + std::to_string(outgoing_.size()) +
                       " lines waiting)"));
            return;
        }
        for (auto& line : lines) outgoing_.push_back(std::move(line));
        pump();
        reply(PostedMessage{channel, ""});
    }

  private:
    Result<void> check_config() const {
        const auto& c = config_;
        if (c.host.empty()) return fail("irc: host is empty");
        if (c.port == 0) return fail("irc: port must be 1-65535");
        if (!is_plain_word(c.nick)) return fail("irc: nick '" + c.nick + "' is not a valid nick");
        if (!is_plain_word(c.user)) return fail("irc: user '" + c.user + "' is not valid");
        if (c.realname.find_first_of("\r\n", 0) != std::string::npos || c.realname.empty())
            return fail("irc: realname must be one non-empty line");
        for (const auto& channel : c.channels) {
            if (!is_plain_word(channel) || !is_channel(channel))
                return fail("irc: '" + channel + "' is not a channel name (e.g. #ops)");
        }
        if (!(c.messages_per_second > 0) || !std::isfinite(c.messages_per_second))
            return fail("irc: messages_per_second must be a positive number");
        if (!(c.burst >= 1) || !std::isfinite(c.burst))
            return fail("irc: burst must be at least 1");
        if (c.reconnect_min.count() <= 0 || c.reconnect_max < c.reconnect_min)
            return fail("irc: need 0 < reconnect_min <= reconnect_max");
        if (c.nick_regain.count() <= 0) return fail("irc: nick_regain must be more than 0");
        if (c.sasl_user.empty() != c.sasl_password.empty())
            return fail("irc: give both sasl_user and sasl_password, or neither");
        return {};
    }

    Result<void> make_tls_context() {
        if (!config_.tls) return {};
        try {
            tls_context_.emplace(ssl::context::tls_client);
        } catch (const std::exception& e) {
            return fail(std::string("irc: cannot create a TLS context: ") + e.what());
        }
        error_code ec;
        tls_context_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                      ssl::context::no_tlsv1_1,
                                  ec);
        if (config_.ca_file.empty()) {
            tls_context_->set_default_verify_paths(ec);
        } else {
            tls_context_->load_verify_file(config_.ca_file, ec);
        }
        if (ec) {
            return fail("irc: cannot load CA certificates" +
                        (config_.ca_file.empty() ? std::string() : " from " + config_.ca_file) +
                        ": " + ec.message());
        }
        tls_context_->set_verify_mode(ssl::verify_peer, ec);
        return {};
    }

    // ---- connecting ----

    void connect() {
        if (stopped_) return;
        reset_connection_state();
        const auto gen = generation_;
        if (config_.tls) {
            tls_stream_ = std::make_shared<ssl::stream<tcp::socket>>(io_, *tls_context_);
        } else {
            socket_ = std::make_shared<tcp::socket>(io_);
        }
        arm_watchdog();
        resolver_.async_resolve(
            config_.host, std::to_string(config_.port),
            [self = shared_from_this(), gen](const error_code& ec,
                                             const tcp::resolver::results_type& results) {
                if (gen != self->generation_) return;
                if (ec)
                    return self->fail_connection("cannot resolve " + self->config_.host + ": " +
                                                 ec.message());
                self->on_resolve(results);
            });
    }

    void on_resolve(const tcp::resolver::results_type& results) {
        const auto gen = generation_;
        asio::async_connect(lowest_layer(), results,
                            [self = shared_from_this(), gen, keep = stream_keepalive()](
                                const error_code& ec, const tcp::endpoint&) {
                                if (gen != self->generation_) return;
                                if (ec)
                                    return self->fail_connection("cannot connect: " + ec.message());
                                self->on_connect();
                            });
    }

    void on_connect() {
        if (!config_.tls) return on_ready();
        auto& stream = *tls_stream_;
        error_code ec;
        asio::ip::make_address(config_.host, ec);
        const bool host_is_ip = !ec;
        if (!host_is_ip) {
            // SNI; a failure here shows up as a failed handshake.
            SSL_set_tlsext_host_name(stream.native_handle(), config_.host.c_str());
        }
        stream.set_verify_mode(ssl::verify_peer, ec);
        stream.set_verify_callback(ssl::host_name_verification(config_.host), ec);
        if (ec) return fail_connection("cannot set up TLS verification: " + ec.message());
        const auto gen = generation_;
        stream.async_handshake(
            ssl::stream_base::client,
            [self = shared_from_this(), gen, keep = stream_keepalive()](const error_code& ec2) {
                if (gen != self->generation_) return;
                if (ec2) return self->fail_connection("TLS handshake failed: " + ec2.message());
                self->on_ready();
            });
    }

    void on_ready() {
        connected_ = true;
        logger->info("connected to {}:{}", config_.host, config_.port);
        // NICK and USER go with CAP LS: a server without CAP ignores CAP and registers us; one
        // with CAP holds registration until CAP END.
        send_command("CAP", {"LS", "302"});
        send_command("NICK", {nick_});
        send_command("USER", {config_.user, "0", "*", config_.realname});
        read_line();
    }

    // ---- reading ----

    void read_line() {
        const auto gen = generation_;
        auto handler = [self = shared_from_this(), gen, keep = stream_keepalive()](
                           const error_code& ec, std::size_t n) {
            if (gen != self->generation_) return;
            self->on_read(ec, n);
        };
        auto buffer = asio::dynamic_buffer(read_buffer_, kMaxReceivedLineBytes + 2);
        if (config_.tls) {
            asio::async_read_until(*tls_stream_, buffer, '\n', std::move(handler));
        } else {
            asio::async_read_until(*socket_, buffer, '\n', std::move(handler));
        }
    }

    void on_read(const error_code& ec, std::size_t n) {
        if (ec) {
            if (ec == asio::error::not_found)
                return fail_connection("the server sent a line longer than " +
                                       std::to_string(kMaxReceivedLineBytes) + " bytes");
            return fail_connection(ec == asio::error::eof
                                       ? std::string("the server closed the connection")
                                       : "read failed: " + ec.message());
        }
        std::string line = read_buffer_.substr(0, n - 1);
        read_buffer_.erase(0, n);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        last_heard_ = std::chrono::steady_clock::now();
        ping_sent_ = false;
        const auto gen = generation_;
        if (!line.empty()) {
            logger->debug("<< {}", line);
            auto message = parse_line(line);
            if (message) {
                on_message(*message);
            } else {
                logger->warn("ignoring a line the server sent: {}", message.error().message);
            }
        }
        if (gen == generation_) read_line();
    }

    // ---- what the server says ----

    void on_message(const Message& m) {
        const auto& p = m.params;
        const std::string& cmd = m.command;
        if (cmd == "PING") {
            std::vector<std::string_view> params(p.begin(), p.end());
            send_line(format_line("PONG", params));
        } else if (cmd == "CAP" && p.size() >= 3) {
            on_cap(p);
        } else if (cmd == "AUTHENTICATE" && !p.empty() && p[0] == "+") {
            const auto payload = sasl_plain_payload("", config_.sasl_user, config_.sasl_password);
            for (const auto& chunk : authenticate_chunks(payload)) {
                send_command("AUTHENTICATE", {chunk});
            }
        } else if (cmd == "900") {
            logger->info("logged in as {}", p.size() >= 3 ? p[2] : config_.sasl_user);
        } else if (cmd == "903" || cmd == "907") {
            send_command("CAP", {"END"});
        } else if (cmd == "904" || cmd == "905" || cmd == "906") {
            on_sasl_failed(p.empty() ? cmd : cmd + " " + p.back());
        } else if (cmd == "433" && !registered_) {
            nick_ += "_";
            logger->info("nick in use; trying {}", nick_);
            send_command("NICK", {nick_});
        } else if (cmd == "432" && !registered_) {
            // Erroneous nick, e.g. longer than the server's NICKLEN after '_'s were added.
            fail_connection("the server refuses the nick " + nick_ + ": " +
                            (p.empty() ? cmd : p.back()));
        } else if (cmd == "001") {
            on_registered(p.empty() ? nick_ : p[0]);
        } else if (cmd == "NICK" && same_nick(m.nick, nick_) && !p.empty()) {
            nick_ = p[0];
            own_prefix_.clear();
        } else if (cmd == "JOIN" && same_nick(m.nick, nick_) && !p.empty()) {
            own_prefix_ = m.prefix;
            logger->info("joined {}", p[0]);
        } else if (cmd == "KICK" && p.size() >= 2 && same_nick(p[1], nick_)) {
            on_kicked(p[0], p.size() >= 3 ? p[2] : "");
        } else if (cmd == "PRIVMSG" && p.size() >= 2) {
            on_privmsg(m);
        } else if (cmd == "ERROR") {
            logger->info("the server says: {}", p.empty() ? "ERROR" : p.back());
        }
    }

    void on_cap(const std::vector<std::string>& p) {
        const std::string& sub = p[1];
        if (sub == "LS") {
            // "CAP * LS * :caps" continues; "CAP * LS :caps" is the last line.
            const bool more = p.size() >= 4 && p[2] == "*";
            for (auto& word : split_words(p.back())) {
                offered_caps_.insert(word.substr(0, word.find('=')));
            }
            if (more) return;
            std::string request;
            for (auto cap : kWantedCaps) {
                if (cap == "sasl" && !wants_sasl()) continue;
                if (!offered_caps_.count(std::string(cap))) continue;
                if (!request.empty()) request += ' ';
                request += cap;
            }
            if (wants_sasl() && !offered_caps_.count("sasl")) {
                logger->warn(
                    "SASL is configured but {} does not offer it; going on "
                    "without logging in",
                    config_.host);
            }
            if (request.empty()) {
                send_command("CAP", {"END"});
            } else {
                send_command("CAP", {"REQ", request});
            }
        } else if (sub == "ACK") {
            const auto acked = split_words(p.back());
            const bool sasl = std::find(acked.begin(), acked.end(), "sasl") != acked.end();
            if (sasl && wants_sasl()) {
                send_command("AUTHENTICATE", {"PLAIN"});
            } else {
                send_command("CAP", {"END"});
            }
        } else if (sub == "NAK") {
            logger->warn("the server refused capabilities: {}", p.back());
            send_command("CAP", {"END"});
        }
    }

    void on_sasl_failed(const std::string& why) {
        const std::string message = "SASL login as '" + config_.sasl_user + "' failed (" + why +
                                    "); not reconnecting: fix the credentials and restart";
        logger->error("{}", message);
        sasl_failed_ = true;
        fail_connection(message);
    }

    void on_registered(const std::string& nick) {
        registered_ = true;
        nick_ = nick;
        backoff_.reset();
        logger->info("registered as {} on {}", nick_, config_.host);
        for (const auto& channel : config_.channels) send_command("JOIN", {channel});
        pump();
        arm_nick_regain();
    }

    // While registered under a nick other than ours, asks for ours back now and then; the
    // server answers with a NICK change (handled like any other) or 433, which is ignored.
    void arm_nick_regain() {
        if (!registered_ || same_nick(nick_, config_.nick)) return;
        const auto gen = generation_;
        regain_timer_.expires_after(config_.nick_regain);
        regain_timer_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
            if (ec || gen != self->generation_) return;
            if (!self->registered_ || same_nick(self->nick_, self->config_.nick)) return;
            logger->info("asking for the nick {} back (now {})", self->config_.nick, self->nick_);
            self->send_command("NICK", {self->config_.nick});
            self->arm_nick_regain();
        });
    }

    void on_kicked(const std::string& channel, const std::string& reason) {
        logger->info("kicked from {} ({}); rejoining in {} s", channel, reason,
                     kRejoinDelay.count());
        auto timer = std::make_shared<asio::steady_timer>(io_, kRejoinDelay);
        const auto gen = generation_;
        timer->async_wait([self = shared_from_this(), gen, timer, channel](const error_code& ec) {
            if (ec || gen != self->generation_) return;
            self->send_command("JOIN", {channel});
        });
    }

    void on_privmsg(const Message& m) {
        const std::string& target = m.params[0];
        const std::string& text = m.params[1];
        if (!text.empty() && text.front() == '\x01') return;  // CTCP (ACTION, VERSION...)
        if (same_nick(m.nick, nick_) || m.nick.empty()) return;
        const bool direct = same_nick(target, nick_);
        if (!direct && !is_channel(target)) return;
        if (!listener_.on_message) return;
        IncomingMessage in;
        auto account = m.tags.find("account");
        if (account != m.tags.end() && !account->second.empty() && account->second != "*") {
            in.sender.id = "irc:" + account->second;
        } else {
            in.sender.id = "irc:" + m.prefix;
        }
        in.sender.display_name = m.nick;
        in.channel = direct ? m.nick : target;
        in.direct_message = direct;
        in.text = strip_formatting(text);
        listener_.on_message(in);
    }

    bool wants_sasl() const { return !config_.sasl_user.empty(); }

    // ---- writing ----

    void send_command(std::string_view command, const std::vector<std::string>& params) {
        std::vector<std::string_view> views(params.begin(), params.end());
        send_line(format_line(command, views));
    }

    void send_line(Result<std::string> line) {
        if (!line) {
            logger->warn("not sending a line: {}", line.error().message);
            return;
        }
        if (!connected_) return;
        if (line->rfind("AUTHENTICATE ", 0) == 0 && *line != "AUTHENTICATE PLAIN") {
            logger->debug(">> AUTHENTICATE <credentials>");
        } else {
            logger->debug(">> {}", *line);
        }
        write_queue_.push_back(std::move(*line) + "\r\n");
        if (!writing_) write_next();
    }

    void write_next() {
        if (write_queue_.empty()) {
            writing_ = false;
            return;
        }
        writing_ = true;
        const auto gen = generation_;
        auto handler = [self = shared_from_this(), gen, keep = stream_keepalive()](
                           const error_code& ec, std::size_t) {
            if (gen != self->generation_) return;
            if (ec) return self->fail_connection("write failed: " + ec.message());
            self->write_queue_.pop_front();
            self->write_next();
        };
        auto buffer = asio::buffer(write_queue_.front());
        if (config_.tls) {
            asio::async_write(*tls_stream_, buffer, std::move(handler));
        } else {
            asio::async_write(*socket_, buffer, std::move(handler));
        }
    }

    // Sends queued PRIVMSG lines as flood control allows, and waits for the next token.
    void pump() {
        if (!registered_ || send_timer_armed_) return;
        const auto now = std::chrono::steady_clock::now();
        while (!outgoing_.empty() && bucket_.try_take(now)) {
            send_line(std::move(outgoing_.front()));
            outgoing_.pop_front();
        }
        if (outgoing_.empty()) return;
        send_timer_armed_ = true;
        send_timer_.expires_after(bucket_.wait_for_next(now));
        send_timer_.async_wait([self = shared_from_this()](const error_code&) {
            // Also after a cancel: pump() itself waits for registration.
            self->send_timer_armed_ = false;
            if (self->stopped_) return;
            self->pump();
        });
    }

    // ---- failure and reconnecting ----

    void arm_watchdog() {
        last_heard_ = std::chrono::steady_clock::now();
        ping_sent_ = false;
        const auto gen = generation_;
        watchdog_.expires_after(kWatchdogTick);
        watchdog_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
            if (ec || gen != self->generation_) return;
            self->on_watchdog();
        });
    }

    void on_watchdog() {
        const auto silent = std::chrono::steady_clock::now() - last_heard_;
        if (silent >= 2 * kPingAfterSilence || (!connected_ && silent >= kPingAfterSilence))
            return fail_connection(
                "no answer from the server for " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(silent).count()) +
                " s");
        if (silent >= kPingAfterSilence && !ping_sent_ && connected_) {
            send_command("PING", {"hostline-keepalive"});
            ping_sent_ = true;
        }
        const auto gen = generation_;
        watchdog_.expires_after(kWatchdogTick);
        watchdog_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
            if (ec || gen != self->generation_) return;
            self->on_watchdog();
        });
    }

    void fail_connection(const std::string& why) {
        if (stopped_) return;
        close_socket();
        ++generation_;
        error_code ignored;
        watchdog_.cancel(ignored);
        send_timer_.cancel(ignored);
        resolver_.cancel();
        const bool was_registered = registered_;
        connected_ = false;
        registered_ = false;
        if (was_registered) {
            logger->info("disconnected from {}: {}", config_.host, why);
        } else {
            logger->warn("connection to {}:{} failed: {}", config_.host, config_.port, why);
        }
        if (listener_.on_disconnected) listener_.on_disconnected(why);
        // A SASL failure is not retried: the credentials will not get better by themselves.
        if (sasl_failed_ || stopped_) return;
        schedule_reconnect();
    }

    void schedule_reconnect() {
        const auto wait = backoff_.next();
        logger->info("reconnecting in {} ms", wait.count());
        const auto gen = generation_;
        reconnect_timer_.expires_after(wait);
        reconnect_timer_.async_wait([self = shared_from_this(), gen](const error_code& ec) {
            if (ec || gen != self->generation_) return;
            self->connect();
        });
    }

    void reset_connection_state() {
        read_buffer_.clear();
        write_queue_.clear();
        writing_ = false;
        connected_ = false;
        registered_ = false;
        own_prefix_.clear();
        offered_caps_.clear();
        nick_ = config_.nick;
        tls_stream_.reset();
        socket_.reset();
    }

    std::shared_ptr<void> stream_keepalive() const {
        if (tls_stream_) return tls_stream_;
        return socket_;
    }

    tcp::socket::lowest_layer_type& lowest_layer() {
        return config_.tls ? tls_stream_->lowest_layer() : socket_->lowest_layer();
    }

    // Best effort and synchronous (one short line the kernel buffers): with a QUIT the server
    // frees the nick at once instead of after its ping timeout, so a restarted controller gets
    // its own nick back. A line being written is ended first, so QUIT stands on its own.
    void say_goodbye() {
        if (!registered_) return;
        const std::string line =
            std::string(writing_ ? "\r\n" : "") + "QUIT :Hostline is stopping\r\n";
        error_code ignored;
        if (tls_stream_) {
            asio::write(*tls_stream_, asio::buffer(line), ignored);
        } else if (socket_) {
            asio::write(*socket_, asio::buffer(line), ignored);
        }
        logger->debug(">> QUIT");
    }

    void close_socket() {
        error_code ignored;
        if (tls_stream_) {
            tls_stream_->lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
            tls_stream_->lowest_layer().close(ignored);
        }
        if (socket_) {
            socket_->shutdown(tcp::socket::shutdown_both, ignored);
            socket_->close(ignored);
        }
    }

    // Constant after construction:
    asio::io_context& io_;
    const IrcConfig config_;
    std::optional<ssl::context> tls_context_;

    // Used on the io_context thread only:
    Listener listener_;
    bool started_ = false;
    bool stopped_ = false;
    bool sasl_failed_ = false;
    std::uint64_t generation_ = 0;  // bumped whenever the connection is dropped or replaced
    tcp::resolver resolver_;
    // Shared with the handlers of their pending operations, so that a dropped connection's
    // stream outlives them.
    std::shared_ptr<ssl::stream<tcp::socket>> tls_stream_;
    std::shared_ptr<tcp::socket> socket_;
    asio::steady_timer reconnect_timer_, send_timer_, watchdog_, regain_timer_;
    TokenBucket bucket_;
    Backoff backoff_;  // between reconnects

    // The current connection:
    bool connected_ = false;
    bool registered_ = false;
    bool writing_ = false;
    bool send_timer_armed_ = false;
    bool ping_sent_ = false;
    std::chrono::steady_clock::time_point last_heard_{};
    std::string nick_;
    std::string own_prefix_;  // nick!user@host from our own JOIN echo
    std::set<std::string> offered_caps_;
    std::string read_buffer_;
    std::deque<std::string> write_queue_;  // whole lines with CRLF; the front is being written
    std::deque<std::string> outgoing_;     // PRIVMSG lines waiting for flood control
};

IrcAdapter::IrcAdapter(asio::io_context& io, IrcConfig config)
    : session_(std::make_shared<Session>(io, std::move(config))) {}

IrcAdapter::~IrcAdapter() {
    session_->stop();
}

PlatformLimits IrcAdapter::limits() const {
    PlatformLimits limits;
    limits.max_message_bytes = 400 * 10;
    limits.can_edit = false;
    limits.has_threads = false;
    return limits;
}

Result<void> IrcAdapter::start(Listener listener) {
    return session_->start(std::move(listener));
}

void IrcAdapter::stop() {
    session_->stop();
}

void IrcAdapter::post(const std::string& channel, const std::string& /*thread*/,
                      const std::string& text, std::function<void(Result<PostedMessage>)> done) {
    session_->post(channel, text, std::move(done));
}

void IrcAdapter::edit(const PostedMessage& /*message*/, const std::string& /*text*/) {}

void IrcAdapter::react(const IncomingMessage& /*to*/, const std::string& /*emoji*/) {}

}  // namespace hostline::chat::irc
