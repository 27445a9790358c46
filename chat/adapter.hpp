// The interface every chat platform implements (IRC, Slack, Teams, the terminal chat).
//
// An adapter connects to its platform, turns what people write into IncomingMessages with a
// real identity, and posts, edits and reacts to replies within the platform's limits. The
// controller's chat service owns the adapters and calls them on its io_context thread; an
// adapter calls its Listener on that thread too. No method blocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/error.hpp"

namespace hostline::chat {

struct ApprovalAction;  // chat/approval_action.hpp

// Who wrote a message: `platform:id`, e.g. "irc:alice" (an account) or
// "irc:alice!al@host.example" (a hostmask), "slack:U024BE7LH", "local:alice".
struct Identity {
    std::string id;            // stable: what policy decides on
    std::string display_name;  // what replies call them
};

struct IncomingMessage {
    Identity sender;
    std::string channel;  // "#ops", a Slack channel id; for a direct message, the sender
    // "#ops" where `channel` is an id (Slack's C…): for log lines and messages, never for policy.
    std::string channel_name;
    std::string thread;  // the platform's thread id, empty where there are none
    std::string text;    // formatting stripped, as the grammar reads it
    bool direct_message = false;
    // The platform says the message is for the bot (a Slack mention of it, whose markup the
    // adapter removed from text): the chat service reads it as a command, like a direct message.
    bool addressed = false;
    std::string message_id;  // to react to or reply in the thread of
};

// A message the adapter posted, so that it can be edited later.
struct PostedMessage {
    std::string channel;
    std::string message_id;  // empty where the platform cannot edit (IRC)
};

// What a platform can show, so replies are shaped to fit.
struct PlatformLimits {
    std::size_t max_message_bytes = 4000;  // one message; longer text is cut, with a link
    bool can_edit = false;                 // progress is edited in place, else not repeated
    bool has_threads = false;
    std::chrono::milliseconds min_edit_interval{2000};  // per message
};

class Adapter {
  public:
    struct Listener {
        std::function<void(const IncomingMessage&)> on_message;
        std::function<void(const std::string& why)> on_disconnected;  // it reconnects itself
        // An Approve or Deny button was clicked (platforms with buttons only).
        std::function<void(const ApprovalAction&)> on_approval_action;
    };
    virtual ~Adapter() = default;

    virtual std::string platform() const = 0;  // "irc", "slack", "teams", "local"
    virtual PlatformLimits limits() const = 0;

    // Starts connecting (and reconnecting with backoff after a drop) and delivers messages to
    // the listener. Error: a configuration the adapter cannot use.
    virtual Result<void> start(Listener listener) = 0;
    virtual void stop() = 0;

    // Posts text (already formatted for the platform) to a channel, in a thread when given.
    // done receives the posted message, or why it could not be posted.
    virtual void post(const std::string& channel, const std::string& thread,
                      const std::string& text, std::function<void(Result<PostedMessage>)> done) = 0;
    // Replaces a posted message's text, where limits().can_edit.
    virtual void edit(const PostedMessage& message, const std::string& text) = 0;
    // Adds a reaction (an emoji name) where the platform has them; a no-op elsewhere.
    virtual void react(const IncomingMessage& to, const std::string& emoji) = 0;

    // Posts a request for approval of job_id. Platforms with buttons (Slack, Teams) show Approve
    // and Deny under the text, and report clicks to Listener::on_approval_action; the others
    // post the text alone, which says how to answer in words.
    virtual void post_approval_request(const std::string& channel, const std::string& thread,
                                       const std::string& text, std::int64_t job_id,
                                       std::function<void(Result<PostedMessage>)> done) {
        (void)job_id;
        post(channel, thread, text, std::move(done));
    }
    // Replaces a request posted by post_approval_request with the decision, so its buttons
    // go; where the platform cannot edit, the decision is only posted as a new message.
    virtual void show_decision(const PostedMessage& request, const std::string& text) {
        if (limits().can_edit && !request.message_id.empty()) edit(request, text);
    }
};

}  // namespace hostline::chat
