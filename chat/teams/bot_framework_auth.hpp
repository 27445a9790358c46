// Validation of the JWT the Bot Framework puts on every activity it posts to the bot
// (botbuilder-js ChannelValidation): only an activity that passes may be acted on, and only
// then may its serviceUrl be trusted for replies.
//
// Checks, in order: a Bearer token; a compact JWS signed with RS256/384/512 by a key from the
// Bot Framework's JWKS; iss == the configured issuer; aud contains the app id; exp and nbf
// within kClockSkew; the key's endorsements contain the activity's channelId; the token's
// serviceurl claim equals the activity's serviceUrl. The serviceUrl comparison is exact, byte
// for byte, as botbuilder-js does: no trailing-slash or case normalisation, because the claim
// and the activity come from the same service and any difference is suspicious.
//
// Not thread-safe: one thread calls validate(); the fetch function (see
// bot_framework_keys.hpp) calls back on that thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "chat/teams/bot_framework_keys.hpp"
#include "common/error.hpp"

namespace hostline::chat::teams {

struct BotFrameworkAuthConfig {
    std::string app_id;  // the bot's Microsoft App ID: the audience tokens must name
    std::string issuer = "https://api.botframework.com";
    std::string openid_metadata_url =
        "https://login.botframework.com/v1/.well-known/openidconfiguration";
};

// What a valid token said.
struct Claims {
    std::string issuer;
    std::string audience;     // the app id it was issued for
    std::string service_url;  // equal to the activity's serviceUrl
    std::string key_id;       // the key that signed it
    std::int64_t expires_at =
        0;  // Unix seconds (as the token says: may be beyond time_point's range)
};

class BotFrameworkAuth {
  public:
    // Tolerance for the clocks of the Bot Framework and of this host.
    static constexpr std::chrono::minutes kClockSkew{5};

    BotFrameworkAuth(BotFrameworkAuthConfig config, Fetch fetch, WallClock clock);

    // Validates the Authorization header of a request carrying an activity with this
    // channelId and serviceUrl. Calls back once (maybe before returning, when the keys are
    // cached) with the claims, or with an error that names the check that failed, e.g.
    // "the token's audience is X, not this bot's app id". Errors never contain the token.
    // No callback once this object is destroyed.
    void validate(std::string_view authorization_header, std::string_view channel_id,
                  std::string_view service_url, std::function<void(Result<Claims>)> done);

  private:
    // Constant after construction:
    BotFrameworkAuthConfig config_;
    WallClock clock_;

    BotFrameworkKeys keys_;
};

}  // namespace hostline::chat::teams
