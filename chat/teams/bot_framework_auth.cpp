#include "chat/teams/bot_framework_auth.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <utility>

#include "chat/teams/jwt.hpp"

namespace hostline::chat::teams {
namespace {

std::string utc_text(std::int64_t unix_seconds) {
    const auto seconds = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (gmtime_r(&seconds, &tm) == nullptr) return std::to_string(unix_seconds);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// A value from the token or the activity, quoted in an error: cut short, since it is not ours.
std::string quote_value(std::string_view value) {
    return "\"" + std::string(value.substr(0, 200)) + (value.size() > 200 ? "…\"" : "\"");
}

// The checks after the signing key is known. `now` in Unix seconds.
Result<Claims> check_token(const CompactJws& jws, const SigningKey& key,
                           const BotFrameworkAuthConfig& config, const std::string& channel_id,
                           const std::string& service_url, std::int64_t now) {
    if (auto verified = key.key.verify(jws.header.alg, jws.signing_input, jws.signature);
        !verified) {
        return verified.error();
    }
    const JwtClaims& claims = jws.claims;
    if (claims.issuer != config.issuer) {
        return fail("the token's issuer is " + quote_value(claims.issuer) + ", not " +
                    quote_value(config.issuer));
    }
    if (std::find(claims.audiences.begin(), claims.audiences.end(), config.app_id) ==
        claims.audiences.end()) {
        const std::string audience = claims.audiences.empty() ? "" : claims.audiences.front();
        return fail("the token's audience is " + quote_value(audience) + ", not this bot's app id");
    }
    const std::int64_t skew = std::chrono::seconds(BotFrameworkAuth::kClockSkew).count();
    if (!claims.expires_at) return fail("the token has no expiry (exp)");
    // Written so that no claim value, however large, can overflow the arithmetic.
    if (now - skew > *claims.expires_at) {
        return fail("the token expired at " + utc_text(*claims.expires_at));
    }
    if (claims.not_before && now + skew < *claims.not_before) {
        return fail("the token is not valid before " + utc_text(*claims.not_before));
    }
    if (std::find(key.endorsements.begin(), key.endorsements.end(), channel_id) ==
        key.endorsements.end()) {
        return fail("the token's signing key is not endorsed for the channel " +
                    quote_value(channel_id));
    }
    if (claims.service_url != service_url) {
        return fail("the token's serviceurl is " + quote_value(claims.service_url) +
                    ", not the activity's serviceUrl " + quote_value(service_url));
    }
    return Claims{claims.issuer, config.app_id, claims.service_url, key.kid, *claims.expires_at};
}

// "Bearer <token>": the scheme is case-insensitive (RFC 7235 §2.1).
Result<std::string_view> bearer_token(std::string_view header) {
    if (header.empty()) return fail("the request has no Authorization header");
    constexpr std::string_view kScheme = "bearer ";
    const bool is_bearer =
        header.size() > kScheme.size() &&
        std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                   [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
    if (!is_bearer) return fail("the Authorization header is not a Bearer token");
    std::string_view token = header.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty()) return fail("the Authorization header's Bearer token is empty");
    return token;
}

}  // namespace

BotFrameworkAuth::BotFrameworkAuth(BotFrameworkAuthConfig config, Fetch fetch, WallClock clock)
    : config_(std::move(config)),
      clock_(clock),
      keys_(config_.openid_metadata_url, std::move(fetch), std::move(clock)) {}

void BotFrameworkAuth::validate(std::string_view authorization_header, std::string_view channel_id,
                                std::string_view service_url,
                                std::function<void(Result<Claims>)> done) {
    auto token = bearer_token(authorization_header);
    if (!token) return done(token.error());
    auto jws = parse_compact_jws(*token);
    if (!jws) return done(jws.error());
    // Refused before any key is fetched: no forged header makes us fetch.
    if (!is_accepted_algorithm(jws->header.alg)) {
        return done(fail("the token's algorithm " + quote_value(jws->header.alg.substr(0, 16)) +
                         " is not accepted (RS256, RS384 or RS512)"));
    }
    if (channel_id.empty()) return done(fail("the activity has no channelId"));

    // The callback may run after this object is gone only if keys_ outlived it, which it
    // cannot (keys_ drops callbacks when destroyed); still, it copies what it needs rather
    // than reach back through `this`.
    const std::string kid = jws->header.kid;
    keys_.find(kid, [jws = std::move(*jws), config = config_, clock = clock_,
                     channel = std::string(channel_id), url = std::string(service_url),
                     done = std::move(done)](Result<SigningKey> key) {
        if (!key) return done(key.error());
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(clock().time_since_epoch()).count();
        done(check_token(jws, *key, config, channel, url, now));
    });
}

}  // namespace hostline::chat::teams
