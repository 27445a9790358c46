// Text going into and coming out of IRC messages: formatting codes, UTF-8 and the 512-byte
// line limit. Pure functions; any thread may call them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hostline::chat::irc {

// Removes mIRC formatting: \x02 bold, \x1D italic, \x1F underline, \x1E strikethrough,
// \x11 monospace, \x16 reverse, \x0F reset, \x03 colours with an optional 1-2 digit
// foreground and ",background" (a comma not followed by a digit is kept as text), and \x04
// hex colours with an optional RRGGBB[,RRGGBB]. Everything else is left as it is.
std::string strip_formatting(std::string_view text);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Makes job output safe to send: invalid UTF-8 becomes U+FFFD (one per maximal invalid
// subpart, as Unicode recommends), ANSI CSI escape sequences ("\x1b[31m") are removed whole,
// and every other C0 control and DEL is removed except tab and newline. That includes the
// mIRC formatting codes, so formatting of our own must be added after sanitising.
std::string sanitize_outgoing(std::string_view text);

// Splits text into PRIVMSG payloads of at most `max_payload` bytes each. Every line break
// (LF, CR or CRLF) ends a payload, since IRC has no multi-line messages; empty lines are
// dropped (a blank line costs a flood-control token and shows nothing useful). A line longer
// than the limit is broken after its last space within the limit, and that one space is
// dropped; a line with no such space is cut at the last UTF-8 character boundary within the
// limit, so a valid sequence is never split. Input that is not valid UTF-8 is still split
// within the limit, by bytes where it must. `max_payload` below 4 can split a 4-byte
// character; 0 yields no payloads. Sanitise job output (sanitize_outgoing) first.
std::vector<std::string> split_for_privmsg(std::string_view text, std::size_t max_payload);

// The longest payload for which the line the server relays to others,
// ":<own_prefix> PRIVMSG <target> :<payload>\r\n", still fits in 512 bytes. `own_prefix` is
// "nick!user@host" as others see us (from 001/396 or our own echoed JOIN); when unsure
// overestimate it. Returns 0 when nothing fits.
std::size_t privmsg_payload_limit(std::string_view own_prefix, std::string_view target);

}  // namespace hostline::chat::irc
