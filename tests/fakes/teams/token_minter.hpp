// Test side of the Bot Framework: RSA keys made with OpenSSL, the JWKS and OpenID metadata that
// publish them, tokens signed with them, and a fetch function serving those documents the way
// chat/net will serve the real ones.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/teams/bot_framework_keys.hpp"

struct evp_pkey_st;

namespace hostline::chat::teams::test {

class TestKey {
  public:
    // A fresh RSA key of `bits` bits (keys are slow to make: share them within a test file).
    explicit TestKey(int bits = 2048);

    // The JWK of its public half: {"kty":"RSA","use":"sig","kid":…,"n":…,"e":…,"endorsements":…}.
    nlohmann::json jwk(const std::string& kid, const std::vector<std::string>& endorsements) const;

    // "header.payload.signature" signed with this key using `alg` (RS256, RS384 or RS512).
    std::string sign(const nlohmann::json& header, const nlohmann::json& payload,
                     const std::string& alg = "RS256") const;

  private:
    std::shared_ptr<evp_pkey_st> key_;
};

// "header.payload." plus an HMAC-SHA256 signature made with `secret` (the classic confusion
// attack uses the RSA public key's bytes as the secret).
std::string sign_hs256(const nlohmann::json& header, const nlohmann::json& payload,
                       const std::string& secret);

// Serves documents by URL and counts requests. With `hold` set, answers wait in `held` until
// release() (to test requests arriving during a fetch).
class FakeKeyServer {
  public:
    std::map<std::string, std::string> documents;  // url -> body; a missing url fails
    std::map<std::string, int> requests;           // url -> how many times fetched
    bool hold = false;

    Fetch fetch();
    void release();
    int total_requests() const;

  private:
    std::vector<std::function<void()>> held_;
};

// A manual wall clock for tests.
struct TestClock {
    std::chrono::system_clock::time_point now =
        std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    WallClock clock() {
        return [this] { return now; };
    }
    std::int64_t unix_now() const {
        return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    }
};

}  // namespace hostline::chat::teams::test
