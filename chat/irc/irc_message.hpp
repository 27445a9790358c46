// One IRC protocol line as a value: parsing what the server sends and building what we send.
//
// RFC 1459/2812 §2.3 framing plus IRCv3 message tags:
//
//   @time=2026-11-24T01:26:25.000Z;msgid=abc :nick!user@host PRIVMSG #jobs :!run backup
//
// Pure functions with no I/O and no state; any thread may call them. Lines are handled
// without their terminator: the reader strips CRLF (or a bare LF) before parse_line, and the
// writer appends CRLF after format_line.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hostline::chat::irc {

// Receive budget: 8191 bytes of tag data (including '@' and the space after it) plus a
// 512-byte RFC line. A longer line is refused rather than buffered; the split between tags
// and the rest is checked for the tags only, so a server sending longer untagged lines still
// gets through.
inline constexpr std::size_t kMaxTagBytes = 8191;
inline constexpr std::size_t kMaxReceivedLineBytes = kMaxTagBytes + 512;
// Send budget: 512 bytes including CRLF for everything after the tags (ngircd disconnects
// with "ERROR :Request too long" past it), and 4094 bytes of client tag data.
inline constexpr std::size_t kMaxSentLineBytes = 510;
inline constexpr std::size_t kMaxSentTagBytes = 4094;

struct Message {
    std::map<std::string, std::string> tags;  // unescaped values; a tag without '=' maps to ""
    std::string prefix;                       // the source without ':', e.g. "nick!user@host"
    // The prefix split up. A prefix with neither '!' nor '@' is a server name when it
    // contains a '.' (it goes to `host`), else a bare nick (it goes to `nick`).
    std::string nick, user, host;
    std::string command;  // upper-cased letters ("PRIVMSG") or three digits ("001", "433")
    std::vector<std::string> params;  // the trailing parameter, if any, is the last one
};

// Parses one line without its CRLF. Fails on an empty line, a line with no command, a line
// longer than kMaxReceivedLineBytes, or a NUL, CR or LF anywhere in it. Repeated spaces
// between parts are tolerated; per RFC 2812, after 14 middle parameters the rest of the line
// is the 15th even without ':'. Tag values are unescaped per IRCv3 (`\:` `;`, `\s` space,
// `\\`, `\r`, `\n`; any other escaped character stands for itself; a lone trailing `\` is
// dropped); for a tag given twice the last value wins.
Result<Message> parse_line(std::string_view line);

// Builds one outgoing line without its CRLF, e.g. format_line("PRIVMSG", {"#jobs", "hi"})
// gives "PRIVMSG #jobs hi" and format_line("PRIVMSG", {"#jobs", "hi there"}) gives
// "PRIVMSG #jobs :hi there". The last parameter gets a ':' only when it needs one (it is
// empty, contains a space or starts with ':'). Tag values are escaped; a tag with an empty
// value is sent as a bare key.
//
// Fails, building nothing, when any part contains NUL, CR or LF (tag values excepted: those
// are escaped, though NUL is still refused), when the command is empty or not alphanumeric,
// when a parameter other than the last is empty, contains a space or starts with ':', when a
// tag key is empty or contains one of " ;=\", or when the line would exceed
// kMaxSentLineBytes (tags excluded) or the tags kMaxSentTagBytes.
Result<std::string> format_line(std::string_view command,
                                const std::vector<std::string_view>& params,
                                const std::map<std::string, std::string>& tags = {});

}  // namespace hostline::chat::irc
