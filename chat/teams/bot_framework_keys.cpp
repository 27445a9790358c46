#include "chat/teams/bot_framework_keys.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

// With nothing cached every request needs the keys; a failing endpoint is still not asked
// more often than this.
constexpr std::chrono::seconds kRetryEmptyCacheAfter{10};
constexpr std::size_t kMaxKeys = 100;
// Requests waiting for a fetch beyond this are refused: a fetch that hangs must not make
// every request to the bot wait in memory.
constexpr std::size_t kMaxWaiting = 256;
constexpr std::size_t kMaxEndorsements = 100;

Result<json> parse_document(std::string_view document, std::string_view what) {
    if (document.size() > kMaxKeyDocumentBytes) {
        return fail(std::string(what) + " is larger than " + std::to_string(kMaxKeyDocumentBytes) +
                    " bytes");
    }
    json value = json::parse(document, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return fail(std::string(what) + " is not valid JSON");
    if (!value.is_object()) return fail(std::string(what) + " is not a JSON object");
    return value;
}

std::string string_field(const json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// An id from a token or a document, quoted in errors: cut short, since it is not ours.
std::string quote_id(std::string_view id) {
    return "\"" + std::string(id.substr(0, 64)) + (id.size() > 64 ? "…\"" : "\"");
}

Result<std::vector<SigningKey>> read_keys(const json& document) {
    const auto keys = document.find("keys");
    if (keys == document.end() || !keys->is_array()) {
        return fail("the JWKS has no \"keys\" array");
    }
    if (keys->size() > kMaxKeys) return fail("the JWKS has more than 100 keys");
    std::vector<SigningKey> result;
    for (const auto& entry : *keys) {
        if (!entry.is_object()) return fail("the JWKS holds a key that is not an object");
        if (string_field(entry, "kty") != "RSA") continue;
        if (const auto use = entry.find("use"); use != entry.end() && *use != "sig") continue;
        const std::string kid = string_field(entry, "kid");
        auto rsa = RsaPublicKey::from_jwk(string_field(entry, "n"), string_field(entry, "e"));
        if (!rsa) return fail("the JWKS key " + quote_id(kid) + ": " + rsa.error().message);
        std::vector<std::string> endorsements;
        if (const auto list = entry.find("endorsements"); list != entry.end()) {
            if (!list->is_array() || list->size() > kMaxEndorsements) {
                return fail("the JWKS key " + quote_id(kid) + " has unusable endorsements");
            }
            for (const auto& channel : *list) {
                if (!channel.is_string()) {
                    return fail("the JWKS key " + quote_id(kid) + " has a non-string endorsement");
                }
                endorsements.push_back(channel.get<std::string>());
            }
        }
        result.push_back(SigningKey{kid, std::move(*rsa), std::move(endorsements)});
    }
    if (result.empty()) return fail("the JWKS has no RSA signing key");
    return result;
}

}  // namespace

Result<std::string> parse_openid_jwks_uri(std::string_view document) {
    auto value = parse_document(document, "the OpenID metadata");
    if (!value) return value.error();
    const std::string uri = string_field(*value, "jwks_uri");
    if (uri.empty()) return fail("the OpenID metadata has no \"jwks_uri\"");
    if (uri.rfind("https://", 0) != 0) {
        return fail("the OpenID metadata's \"jwks_uri\" is not an https:// URL");
    }
    return uri;
}

Result<std::vector<SigningKey>> parse_jwks(std::string_view document) {
    auto value = parse_document(document, "the JWKS");
    if (!value) return value.error();
    try {
        return read_keys(*value);
    } catch (const json::exception& e) {
        return fail(std::string("the JWKS could not be read: ") + e.what());
    }
}

struct BotFrameworkKeys::State : std::enable_shared_from_this<State> {
    struct Waiter {
        std::string kid;
        std::function<void(Result<SigningKey>)> done;
    };

    // Constant after construction:
    std::string metadata_url;
    Fetch fetch;
    WallClock clock;

    std::vector<SigningKey> keys;
    bool has_keys = false;
    std::chrono::system_clock::time_point fetched_at;    // of the keys in use
    std::chrono::system_clock::time_point last_attempt;  // of the last fetch, failed or not
    bool attempted = false;
    Error last_error;  // why the last fetch failed, for requests refused while it is recent
    bool fetching = false;
    std::vector<Waiter> waiters;

    const SigningKey* lookup(const std::string& kid) const {
        for (const auto& key : keys) {
            if (key.kid == kid) return &key;
        }
        return nullptr;
    }

    Result<SigningKey> answer(const std::string& kid) const {
        if (kid.empty()) {
            if (keys.size() == 1 && keys.front().kid.empty()) return keys.front();
            return fail("the token's header names no signing key (kid)");
        }
        if (const SigningKey* key = lookup(kid)) return *key;
        return fail("the token is signed by an unknown key " + quote_id(kid));
    }

    bool needs_fetch(const std::string& kid, std::chrono::system_clock::time_point now) const {
        const auto since_attempt = now - last_attempt;
        if (!has_keys) return !attempted || since_attempt >= kRetryEmptyCacheAfter;
        if (since_attempt < kUnknownKeyRefreshInterval) return false;
        return now - fetched_at >= kRefreshAfter || (!kid.empty() && lookup(kid) == nullptr);
    }

    void start_fetch() {
        fetching = true;
        attempted = true;
        last_attempt = clock();
        std::weak_ptr<State> weak = weak_from_this();
        fetch(metadata_url, [weak](Result<std::string> metadata) {
            const auto self = weak.lock();
            if (!self) return;
            if (!metadata) {
                return self->finish(fail("fetching the Bot Framework OpenID metadata failed: " +
                                         metadata.error().message));
            }
            auto jwks_uri = parse_openid_jwks_uri(*metadata);
            if (!jwks_uri) return self->finish(jwks_uri.error());
            self->fetch(*jwks_uri, [weak](Result<std::string> jwks) {
                const auto self = weak.lock();
                if (!self) return;
                if (!jwks) {
                    return self->finish(
                        fail("fetching the Bot Framework keys failed: " + jwks.error().message));
                }
                auto keys = parse_jwks(*jwks);
                if (!keys) return self->finish(keys.error());
                self->keys = std::move(*keys);
                self->has_keys = true;
                self->fetched_at = self->clock();
                self->finish(std::nullopt);
            });
        });
    }

    void finish(std::optional<Error> error) {
        fetching = false;
        if (error) last_error = *error;
        auto ready = std::move(waiters);
        waiters.clear();
        for (auto& waiter : ready) {
            if (!has_keys) {
                waiter.done(last_error);
            } else {
                waiter.done(answer(waiter.kid));
            }
        }
    }
};

BotFrameworkKeys::BotFrameworkKeys(std::string openid_metadata_url, Fetch fetch, WallClock clock)
    : state_(std::make_shared<State>()) {
    state_->metadata_url = std::move(openid_metadata_url);
    state_->fetch = std::move(fetch);
    state_->clock = std::move(clock);
}

BotFrameworkKeys::~BotFrameworkKeys() = default;

void BotFrameworkKeys::find(const std::string& kid, std::function<void(Result<SigningKey>)> done) {
    if (state_->fetching) {
        if (state_->waiters.size() >= kMaxWaiting) {
            return done(fail("too many requests are waiting for the Bot Framework keys"));
        }
        state_->waiters.push_back({kid, std::move(done)});
        return;
    }
    if (!state_->needs_fetch(kid, state_->clock())) {
        if (!state_->has_keys) {
            return done(state_->last_error);
        }
        return done(state_->answer(kid));
    }
    state_->waiters.push_back({kid, std::move(done)});
    state_->start_fetch();
}

}  // namespace hostline::chat::teams
