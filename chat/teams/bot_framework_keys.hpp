// The Bot Framework's signing keys: the OpenID metadata document names a JWKS, whose keys carry
// the channels each key may sign for (`endorsements`). BotFrameworkKeys fetches and caches them.
//
// Fetching is injected (the HTTPS client lives in chat/net), so this file does no I/O and
// tests need no network. Not thread-safe: one thread (the controller's io thread) calls
// find(), and the fetch function must call back on that same thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/teams/jwt.hpp"
#include "common/error.hpp"

namespace hostline::chat::teams {

// Fetches a URL's body with GET; calls back once with the body or why it could not.
using Fetch =
    std::function<void(const std::string& url, std::function<void(Result<std::string>)> done)>;
// Wall-clock time: token times are Unix times.
using WallClock = std::function<std::chrono::system_clock::time_point()>;

struct SigningKey {
    std::string kid;
    RsaPublicKey key;
    std::vector<std::string> endorsements;  // channel ids, e.g. "msteams"
};

// Documents larger than this are refused: the real JWKS is a few KiB.
inline constexpr std::size_t kMaxKeyDocumentBytes = 1024 * 1024;

// The `jwks_uri` of an OpenID configuration document; it must be an https:// URL.
Result<std::string> parse_openid_jwks_uri(std::string_view document);

// The RSA signature keys of a JWKS ({"keys":[{kty,kid,n,e,endorsements},…]}). Keys that are
// not RSA or not for signatures (`use` other than "sig") are skipped; an RSA key that cannot
// be read fails the document, so a broken publisher is noticed rather than half-trusted.
// Fails when no usable key remains.
Result<std::vector<SigningKey>> parse_jwks(std::string_view document);

class BotFrameworkKeys {
  public:
    // The keys are fetched again when older than this…
    static constexpr std::chrono::hours kRefreshAfter{24};
    // …or when a token names an unknown key, but no more often than this, so forged tokens
    // with made-up key ids cannot make us hammer the metadata endpoint.
    static constexpr std::chrono::minutes kUnknownKeyRefreshInterval{5};

    BotFrameworkKeys(std::string openid_metadata_url, Fetch fetch, WallClock clock);
    ~BotFrameworkKeys();
    BotFrameworkKeys(const BotFrameworkKeys&) = delete;
    BotFrameworkKeys& operator=(const BotFrameworkKeys&) = delete;

    // Calls back with the key named `kid` (empty: the only key, when the keys have no ids).
    // Fetches first when nothing is cached, when the cache is older than kRefreshAfter, or
    // when `kid` is unknown and the last fetch was more than kUnknownKeyRefreshInterval ago.
    // Requests arriving while a fetch is under way wait for it: one fetch at a time (at most
    // 256 wait; more are refused, so the fetch must always call back, e.g. after a timeout). When a
    // refresh fails, the keys fetched before stay in use. Errors: the fetch failed with
    // nothing cached, or no key has that id. Callbacks stop once this object is destroyed.
    void find(const std::string& kid, std::function<void(Result<SigningKey>)> done);

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace hostline::chat::teams
