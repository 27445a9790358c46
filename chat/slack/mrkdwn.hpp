// Slack's mrkdwn, both ways: text and job output made safe to post (escaped, fenced, cut below
// Slack's limits with a link to the whole output), and what people wrote made readable for
// the command grammar (escapes decoded, links and mentions turned into their text).
//
// Slack's page "Formatting text for app surfaces": only & < > are escaped; <…> is a link or
// mention. Lengths here are counted in UTF-16 code units, as Slack's limits are (a character
// outside the BMP counts 2), which is never fewer than the characters Slack counts.
// Pure functions; any thread may call them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hostline::chat::slack {

// Slack advises keeping a message's text to 4,000 characters and refuses a section block's
// text over 3,000; these leave room for what a reply adds around the text.
inline constexpr std::size_t kMessageTextLimit = 3900;
inline constexpr std::size_t kSectionTextLimit = 2900;

// Where the whole output of a cut reply can be read.
struct JobLink {
    std::string url;  // the job's page on the controller, e.g. "https://hostline:8443/jobs/42"
    std::int64_t job_id = 0;
};

// & < > as &amp; &lt; &gt;; everything else as it is.
std::string escape(std::string_view text);

// The note that ends a cut text: "… (cut; full output: <URL|job #42>)". Without a URL:
// "… (cut; full output: job #42)".
std::string cut_note(const JobLink& link);

// Text length as Slack counts it (UTF-16 code units; a byte that is not UTF-8 counts 1).
std::size_t slack_length(std::string_view text);

// `text` (already mrkdwn) unchanged when slack_length(text) <= max_length; otherwise its start,
// cut on a character boundary (at a line end when one lies in the last half of the room, never
// inside an &entity; or a <link>), with a ``` block left open by the cut closed, then a line
// with cut_note(link). The result never exceeds max_length unless max_length is smaller than
// the note itself, in which case it is the note alone.
std::string cut_to_fit(std::string_view text, std::size_t max_length, const JobLink& link);

// Job output as a code block: "```\n" + escaped output + "\n```". A run of backticks in the
// output has a zero-width space put after every second one, so nothing in the output can close
// the block. Cut as cut_to_fit does (the note after the closing fence) to fit max_length.
std::string code_block(std::string_view output, std::size_t max_length, const JobLink& link);

// What a person wrote, as the grammar reads it: <https://x|label> -> label, <https://x> -> the
// URL, <mailto:a@b|a@b> -> a@b, <@U123> -> @U123, <@U123|ann> -> @ann, <#C123|ops> -> #ops,
// <!here> -> @here, <!subteam^S1|@ops> -> @ops; then &amp; &lt; &gt; decoded. A '<' with no
// '>' after it is kept as it is.
std::string to_plain_text(std::string_view slack_text);

}  // namespace hostline::chat::slack
