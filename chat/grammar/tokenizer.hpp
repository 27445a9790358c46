// Splits a chat message into words the way a POSIX shell splits words, and does nothing else:
// no expansion, substitution, globbing, redirection or command separation of any kind.
//
//   deploy 'role=web&env=prod' "say \"hi\"" a\ b $HOME `x`;|>*
//   -> deploy | role=web&env=prod | say "hi" | a b | $HOME | `x`;|>*
//
// - Whitespace (space, tab, no-break space and the other Unicode space separators) separates
//   words; every other character, `$ ` ; | & > < * ( )` included, is an ordinary character.
// - '...' is literal. "..." is literal but for the escapes \" and \\. Outside quotes a
//   backslash makes the next character ordinary. Quotes and escapes are removed; an empty
//   pair ('' or "") is an empty word.
// - The chat clients' smart quotes quote too: “...” like "..." (escapes \” and \\) and
//   ‘...’ like '...'. Only the opening ones open a quote, so an apostrophe typed as ’
//   (don’t) stays an ordinary character.
//
// Refused, with a message that says where: a message over kMaxMessageBytes, invalid UTF-8,
// control characters other than tab (C0, DEL and C1, newlines included: one message is one
// command), an unclosed quote and a trailing backslash. Columns count characters (code
// points) from 1; byte positions count bytes from 1.
//
// A pure function, safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hostline::chat {

// The longest message the grammar reads, in bytes.
inline constexpr std::size_t kMaxMessageBytes = 16 * 1024;

// The words of text, in order, each valid UTF-8. An empty or all-whitespace text has none.
Result<std::vector<std::string>> tokenize(std::string_view text);

}  // namespace hostline::chat
