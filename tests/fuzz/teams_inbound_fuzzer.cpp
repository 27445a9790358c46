// libFuzzer target: bytes as anyone can POST them to /chat/teams/messages (the activity and
// its Authorization header), and as the key and token endpoints answer. The same bytes go
// through parse_activity, parse_compact_jws, base64url_decode, parse_jwks,
// parse_openid_jwks_uri and parse_token_response (chat/teams/).
//
// Besides not crashing, the code must keep its promises for every input:
//   - every error says what was wrong (a non-empty message);
//   - base64url is canonical: what decodes encodes back to the same text;
//   - a parsed token's signing input is the text before its last dot;
//   - a parsed message has a "teams:" identity and trimmed, non-empty text; a click names a
//     positive job; and a reply built from the parsed text is valid JSON.
// A broken promise aborts, so the fuzzer reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "chat/teams/activity.hpp"
#include "chat/teams/base64url.hpp"
#include "chat/teams/bot_framework_keys.hpp"
#include "chat/teams/connector_token.hpp"
#include "chat/teams/jwt.hpp"

namespace {

using namespace hostline::chat;
using namespace hostline::chat::teams;

[[noreturn]] void broken(const char* promise) {
    std::fprintf(stderr, "Teams code broke its promise: %s\n", promise);
    std::abort();
}

template <typename T>
bool check(const hostline::Result<T>& result) {
    if (!result && result.error().message.empty()) broken("an error says what was wrong");
    return result.ok();
}

void check_activity(std::string_view body) {
    auto activity = parse_activity(body);
    if (!check(activity)) return;
    if (const auto* message = std::get_if<IncomingMessage>(&activity->content)) {
        if (message->sender.id.rfind("teams:", 0) != 0) broken("senders are teams: identities");
        if (message->sender.id.size() == 6) broken("a sender has an id");
        if (message->text.empty()) broken("a message has text");
        if (message->text.front() == ' ' || message->text.back() == ' ') broken("text is trimmed");
        const auto reply =
            nlohmann::json::parse(message_activity(escape_markdown(message->text)), nullptr, false);
        if (reply.is_discarded()) broken("a reply is valid JSON");
    } else if (const auto* click = std::get_if<ApprovalAction>(&activity->content)) {
        if (click->job_id <= 0) broken("a click names a positive job");
        if (click->user.id.rfind("teams:", 0) != 0) broken("clickers are teams: identities");
    } else if (std::get<IgnoredActivity>(activity->content).why.rfind("ignored: ", 0) != 0) {
        broken("an ignored activity says why");
    }
}

void check_token(std::string_view text) {
    auto jws = parse_compact_jws(text);
    if (!check(jws)) return;
    if (text.substr(0, text.rfind('.')) != jws->signing_input) broken("the signing input");
    if (jws->header.alg.empty()) broken("a parsed token names its algorithm");
}

void check_base64url(std::string_view text) {
    auto decoded = base64url_decode(text, "input");
    if (check(decoded) && base64url_encode(*decoded) != text) broken("base64url is canonical");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_activity(text);
    check_token(text);
    check_base64url(text);
    check(parse_jwks(text));
    check(parse_openid_jwks_uri(text));
    check(parse_token_response(text));
    return 0;
}
