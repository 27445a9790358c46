// A fake Bot Framework over HTTPS (testing::TlsTestServer, trusted through a TestCa): the OpenID
// metadata and the JWKS (one RSA key, endorsed for "msteams"), the client-credentials token
// endpoint with its tenant's OpenID configuration, and a conversation sink that records what the
// bot POSTs and PUTs. It also mints the JWTs the Bot Connector would put on the activities it sends
// the bot, with any claims a test chooses, and builds those activities. The sink can be told to
// answer its next calls with a given status and headers (a 412, a 429 with Retry-After, a 502, a
// 401, a late answer).
//
//   testing::TestCa ca;
//   FakeBotFramework bf(ca, "app-id", "s3cret");
//   config.openid_metadata_url = bf.openid_metadata_url(); config.token_url = bf.token_url();
//   auto activity = bf.message("conv-1", "user-aad-1", "Alice", "run uptime");
//   adapter.receive("Bearer " + bf.token(bf.valid_claims()), activity.dump(), ...);
//   bf.wait_for_activities(1, 10s);  bf.activities()[0].body["text"]
//   bf.answer_next(1, {502});  // the connector fails for a while: see calls() for every try
//
// Thread: any; the server answers on its own thread. Test support: failures throw.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/test_tls.hpp"

namespace hostline::chat::teams::test {

class TestKey;

// The claims of an inbound token. valid_claims() fills them as the real service would.
struct InboundClaims {
    std::string issuer;
    std::string audience;
    std::string service_url;
    std::int64_t expires_at = 0;  // Unix seconds
    std::int64_t not_before = 0;
    std::string kid;                  // the header's key id
    bool sign_with_stranger = false;  // a key the JWKS does not publish, under `kid`
};

// One request the bot made to the conversation sink.
struct SentActivity {
    std::string method;           // POST (new) or PUT (replace)
    std::string conversation_id;  // decoded from the path
    std::string activity_id;      // the id the sink gave (POST) or the one replaced (PUT)
    std::string authorization;
    nlohmann::json body;
};

// An answer the sink gives instead of taking the activity (see answer_next).
struct ScriptedAnswer {
    int status = 503;
    testing::TestHeaders headers;
    std::string body;
    // Answered this late: past the bot's request timeout, the bot sees no reply at all.
    std::chrono::milliseconds delay{0};
};

// One request the sink received, whatever it answered: for counting tries and timing them.
struct SinkCall {
    std::string method;
    std::string conversation_id;
    std::string authorization;
    std::string text;  // the activity's "text", if any
    int status = 0;    // what the sink answered
    std::chrono::system_clock::time_point received;
};

class FakeBotFramework {
  public:
    static constexpr const char* kIssuer = "https://api.botframework.com";
    static constexpr const char* kKeyId = "fake-key-1";

    FakeBotFramework(const testing::TestCa& ca, std::string app_id, std::string app_password);
    ~FakeBotFramework();

    std::string openid_metadata_url() const;
    // The Azure AD authority (tenant botframework.com) whose token endpoint token_url() is; it
    // serves its OpenID configuration at AUTHORITY/v2.0/.well-known/openid-configuration.
    std::string authority() const;
    std::string token_url() const;
    std::string service_url() const;  // where the sink listens, with a trailing '/'

    InboundClaims valid_claims() const;  // now + 1 hour, this app, this service url
    std::string token(const InboundClaims& claims) const;

    // Activities as Teams sends them (the conversation is registered with the sink).
    nlohmann::json message(const std::string& conversation_id, const std::string& aad_object_id,
                           const std::string& name, const std::string& text);
    // A click on an approval card's button: verb "approve" or "deny".
    nlohmann::json card_click(const std::string& conversation_id, const std::string& card_id,
                              const std::string& aad_object_id, const std::string& name,
                              const std::string& verb, std::int64_t job_id);

    // The sink: every request so far, and waiting for them.
    std::vector<SentActivity> activities() const;
    bool wait_for_activities(std::size_t count, std::chrono::milliseconds timeout) const;
    // The next `count` sink requests (after any already scripted) get `answer` and are not
    // taken: e.g. {502}, {429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}}, {403}.
    void answer_next(int count, ScriptedAnswer answer);
    // The next `count` sink requests are answered 429 with this Retry-After (seconds).
    void throttle(int count, int retry_after_seconds);
    // Every request the sink received, scripted answers included, in the order received.
    std::vector<SinkCall> calls() const;
    // Times the token endpoint answered with a token; wrong credentials get 401, and the sink
    // answers 401 to any token it did not issue.
    int tokens_issued() const;
    // The next `count` token requests get `status` (e.g. 503) instead of a token; also counted.
    void fail_token_requests(int count, int status);
    int token_requests() const;
    const testing::TlsTestServer& server() const { return *server_; }

  private:
    void add_conversation(const std::string& conversation_id);
    testing::TestResponse on_sink(const testing::RecordedRequest& request,
                                  const std::string& conversation_id,
                                  const std::string& activity_id);

    std::string app_id_;
    std::string app_password_;
    std::unique_ptr<TestKey> key_;
    std::unique_ptr<TestKey> stranger_;
    std::unique_ptr<testing::TlsTestServer> server_;

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<SentActivity> activities_;
    std::vector<std::string> conversations_;
    std::vector<std::string> issued_tokens_;
    std::deque<ScriptedAnswer> scripted_;
    int token_failures_left_ = 0, token_failure_status_ = 503, token_requests_ = 0;
    std::vector<SinkCall> calls_;
    std::uint64_t next_id_ = 1;
};

}  // namespace hostline::chat::teams::test
