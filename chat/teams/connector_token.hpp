// The token the bot shows the Bot Connector when it sends, edits or replies: OAuth 2.0 client
// credentials (RFC 6749 §4.4) from Microsoft Entra ID, cached until shortly before it expires.
//
// Building the request and reading the answer are pure functions; sending it is the caller's
// (chat/net). The request body holds the client secret: never log it. Error messages never
// contain the secret or the token.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::chat::teams {

struct ClientCredentials {
    // Multi-tenant bots use "botframework.com" as the tenant; a single-tenant registration
    // puts its own tenant id in place of it.
    std::string token_url = "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
    std::string client_id;      // the bot's Microsoft App ID
    std::string client_secret;  // secret: from a file or the environment, never logged
    std::string scope = "https://api.botframework.com/.default";
};

struct TokenRequest {
    std::string url;
    std::string content_type;  // application/x-www-form-urlencoded
    std::string body;          // holds the secret
};

// POST url with body grant_type=client_credentials&client_id=…&client_secret=…&scope=…, each
// value form-encoded (RFC 3986 unreserved characters kept, everything else %XX).
TokenRequest token_request(const ClientCredentials& credentials);

struct ConnectorToken {
    std::string access_token;  // secret
    std::chrono::seconds expires_in{0};
};

// Reads the token endpoint's JSON answer ({"token_type":"Bearer","expires_in":3600,
// "access_token":…}). An error answer ({"error":…,"error_description":…}) becomes an error
// naming the OAuth error code and the first line of its description; a token_type other
// than Bearer, a missing token or a non-positive expires_in are errors too.
Result<ConnectorToken> parse_token_response(std::string_view body);

// Says when a new token is needed: none yet, or it expires within `margin`. Not thread-safe:
// the adapter's thread owns it.
class ConnectorTokenCache {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    static constexpr std::chrono::minutes kDefaultMargin{5};

    explicit ConnectorTokenCache(Clock clock, std::chrono::seconds margin = kDefaultMargin);

    // The cached token while it is good for longer than the margin; otherwise none, and the
    // caller fetches one and stores it.
    std::optional<std::string> current() const;
    bool needs_refresh() const { return !current().has_value(); }

    // Keeps a token fetched just now: it is good until now + expires_in - margin (half of
    // expires_in when that is shorter than twice the margin).
    void store(const ConnectorToken& token);
    // Forgets the token, e.g. after the connector answered 401 to it.
    void clear();

  private:
    // Constant after construction:
    Clock clock_;
    std::chrono::seconds margin_;

    std::string token_;
    std::chrono::steady_clock::time_point refresh_at_;
};

}  // namespace hostline::chat::teams
