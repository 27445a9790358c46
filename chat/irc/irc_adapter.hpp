// The IRC adapter: one connection to one IRC server, the bot's channels on it, and the lines
// people write there turned into IncomingMessages.
//
// It registers with IRCv3 capability negotiation (message-tags, account-tag, server-time and
// sasl, each only when the server offers it), authenticates with SASL PLAIN when configured,
// joins its channels, rejoins a channel 2 s after being kicked, and reconnects with jittered
// exponential backoff after any drop. A SASL failure (904/905/906) is not retried: the
// credentials are wrong and retrying would only lock the account.
//
// Thread: every method, the destructor included, must be called on the io_context's thread
// (the controller's chat service thread); the listener is called on it too. No method blocks. Asio
// stays out of this header; the connection lives in the .cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/adapter.hpp"

namespace boost::asio {
class io_context;
}

namespace hostline::chat::irc {

struct IrcConfig {
    std::string host;
    std::uint16_t port = 6697;
    bool tls = true;
    // A private CA bundle (PEM) to verify the server with; empty: the system's CAs. With TLS
    // the certificate chain and the host name (or IP address) are always verified.
    std::string ca_file;
    std::string nick = "hostline";
    std::string user = "hostline";
    std::string realname = "Hostline";
    // SASL PLAIN when both are set. The password is never logged.
    std::string sasl_user, sasl_password;
    std::vector<std::string> channels;  // joined, and rejoined after a kick
    // Flood control for outgoing messages: a burst, then this many lines a second.
    double messages_per_second = 1.0;
    double burst = 4;
    // Reconnect backoff: the first delay, doubled after each failure up to the maximum, with
    // jitter (each wait is between half the delay and the delay).
    std::chrono::milliseconds reconnect_min{1000}, reconnect_max{60000};
    // Registered under another nick (ours was taken, often by our own connection the server
    // has not let go yet): how often to ask for ours back.
    std::chrono::milliseconds nick_regain{30000};
};

class IrcAdapter : public chat::Adapter {
  public:
    // `io` must outlive the adapter. Nothing happens before start().
    IrcAdapter(boost::asio::io_context& io, IrcConfig config);
    // Closes the connection (as stop() does).
    ~IrcAdapter() override;
    IrcAdapter(const IrcAdapter&) = delete;
    IrcAdapter& operator=(const IrcAdapter&) = delete;

    std::string platform() const override { return "irc"; }
    // 10 lines of about 400 bytes; no editing, no threads.
    PlatformLimits limits() const override;

    // Error: a configuration that cannot work (no host, a bad nick or channel name, a rate
    // that is not positive, an unreadable ca_file...), or a second start().
    Result<void> start(Listener listener) override;
    // Closes the connection and stops reconnecting; queued lines are dropped.
    void stop() override;

    // Sanitises the text (sanitize_outgoing), splits it into PRIVMSG lines that fit 512
    // bytes as others receive them, and queues them behind flood control; lines queued while
    // disconnected go out once the bot is registered again. `thread` is ignored. done gets
    // {channel, ""} once the lines are queued, or an error for a bad channel name or a full
    // queue; it is called from the io_context, never from inside post().
    void post(const std::string& channel, const std::string& thread, const std::string& text,
              std::function<void(Result<PostedMessage>)> done) override;
    // IRC cannot edit or react: both do nothing.
    void edit(const PostedMessage& message, const std::string& text) override;
    void react(const IncomingMessage& to, const std::string& emoji) override;

  private:
    class Session;
    std::shared_ptr<Session> session_;  // shared with its own pending handlers
};

}  // namespace hostline::chat::irc
