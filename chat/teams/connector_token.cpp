#include "chat/teams/connector_token.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxResponseBytes = 64 * 1024;
constexpr std::size_t kMaxDescriptionBytes = 300;

std::string form_encode(std::string_view value) {
    constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size() * 3);
    for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += kHex[byte >> 4];
            out += kHex[byte & 0x0F];
        }
    }
    return out;
}

std::string string_field(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<ConnectorToken> read_answer(const json& answer) {
    if (const std::string error = string_field(answer, "error"); !error.empty()) {
        std::string description = string_field(answer, "error_description");
        description = description.substr(0, description.find_first_of("\r\n"));
        if (description.size() > kMaxDescriptionBytes) description.resize(kMaxDescriptionBytes);
        return fail("the token endpoint refused the bot's credentials: " + error.substr(0, 64) +
                    (description.empty() ? "" : " (" + description + ")"));
    }
    const std::string type = string_field(answer, "token_type");
    if (type != "Bearer" && type != "bearer") {
        return fail("the token endpoint's answer is not a Bearer token");
    }
    ConnectorToken token;
    token.access_token = string_field(answer, "access_token");
    if (token.access_token.empty()) return fail("the token endpoint's answer has no access_token");
    const auto expires_in = answer.find("expires_in");
    // Entra ID sends a number; older endpoints sent it as a string of digits.
    std::int64_t seconds = 0;
    if (expires_in != answer.end() && expires_in->is_number_integer()) {
        seconds = expires_in->get<std::int64_t>();
    } else if (expires_in != answer.end() && expires_in->is_string()) {
        const std::string text = expires_in->get<std::string>();
        if (text.empty() || text.size() > 9 ||
            text.find_first_not_of("0123456789") != std::string::npos) {
            return fail("the token endpoint's expires_in is not a number of seconds");
        }
        seconds = std::stoll(text);
    } else {
        return fail("the token endpoint's answer has no expires_in");
    }
    if (seconds <= 0 || seconds > 7 * 24 * 3600) {
        return fail("the token endpoint's expires_in " + std::to_string(seconds) +
                    " is out of range");
    }
    token.expires_in = std::chrono::seconds(seconds);
    return token;
}

}  // namespace

TokenRequest token_request(const ClientCredentials& credentials) {
    return TokenRequest{
        credentials.token_url, "application/x-www-form-urlencoded",
        "grant_type=client_credentials&client_id=" + form_encode(credentials.client_id) +
            "&client_secret=" + form_encode(credentials.client_secret) +
            "&scope=" + form_encode(credentials.scope)};
}

Result<ConnectorToken> parse_token_response(std::string_view body) {
    if (body.size() > kMaxResponseBytes) return fail("the token endpoint's answer is too large");
    const json answer = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (answer.is_discarded() || !answer.is_object()) {
        return fail("the token endpoint's answer is not a JSON object");
    }
    try {
        return read_answer(answer);
    } catch (const json::exception& e) {
        return fail(std::string("the token endpoint's answer could not be read: ") + e.what());
    }
}

ConnectorTokenCache::ConnectorTokenCache(Clock clock, std::chrono::seconds margin)
    : clock_(std::move(clock)), margin_(margin) {}

std::optional<std::string> ConnectorTokenCache::current() const {
    if (token_.empty() || clock_() >= refresh_at_) return std::nullopt;
    return token_;
}

void ConnectorTokenCache::store(const ConnectorToken& token) {
    token_ = token.access_token;
    // A token shorter-lived than twice the margin is still used for half its life, rather
    // than fetched again on every request.
    const auto margin = std::min<std::chrono::seconds>(margin_, token.expires_in / 2);
    refresh_at_ = clock_() + token.expires_in - margin;
}

void ConnectorTokenCache::clear() {
    token_.clear();
}

}  // namespace hostline::chat::teams
