#include "tests/fakes/teams/fake_bot_framework.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "common/percent_encoding.hpp"
#include "tests/fakes/teams/token_minter.hpp"

namespace hostline::chat::teams::test {
namespace {

using testing::RecordedRequest;
using testing::TestResponse;

const testing::TestHeaders kJson = {{"Content-Type", "application/json; charset=utf-8"}};

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// As the connector's clients escape ids in paths (encodeURIComponent, near enough).
std::string path_segment(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::map<std::string, std::string> form_fields(const std::string& body) {
    std::map<std::string, std::string> fields;
    std::size_t start = 0;
    while (start <= body.size()) {
        std::size_t end = body.find('&', start);
        if (end == std::string::npos) end = body.size();
        const std::string pair = body.substr(start, end - start);
        const auto eq = pair.find('=');
        if (eq != std::string::npos)
            fields[percent_decode(pair.substr(0, eq)).value_or("")] =
                percent_decode(pair.substr(eq + 1)).value_or("");
        start = end + 1;
    }
    return fields;
}

TestResponse json_answer(int status, const nlohmann::json& body) {
    return TestResponse{status, kJson, body.dump()};
}

}  // namespace

FakeBotFramework::FakeBotFramework(const testing::TestCa& ca, std::string app_id,
                                   std::string app_password)
    : app_id_(std::move(app_id)),
      app_password_(std::move(app_password)),
      key_(std::make_unique<TestKey>()),
      stranger_(std::make_unique<TestKey>()),
      server_(std::make_unique<testing::TlsTestServer>(ca.server())) {
    const std::string jwks_url = server_->url("/v1/.well-known/keys");
    server_->on("GET", "/v1/.well-known/openidconfiguration", [jwks_url](const RecordedRequest&) {
        return json_answer(200, {{"issuer", kIssuer},
                                 {"jwks_uri", jwks_url},
                                 {"id_token_signing_alg_values_supported", {"RS256"}}});
    });
    const nlohmann::json jwks = {{"keys", nlohmann::json::array({key_->jwk(kKeyId, {"msteams"})})}};
    server_->on("GET", "/v1/.well-known/keys",
                [jwks](const RecordedRequest&) { return json_answer(200, jwks); });
    // The token endpoint's tenant (botframework.com) publishes its OpenID configuration as Azure
    // AD does; MSAL, which the Bot Framework SDKs get their tokens through, reads the token
    // endpoint from it rather than assuming one.
    const std::string authority = this->authority();
    const std::string token_url = this->token_url();
    server_->on("GET", "/botframework.com/v2.0/.well-known/openid-configuration",
                [authority, token_url, jwks_url](const RecordedRequest&) {
                    return json_answer(
                        200,
                        {{"token_endpoint", token_url},
                         {"token_endpoint_auth_methods_supported",
                          {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
                         {"jwks_uri", jwks_url},
                         {"response_modes_supported", {"query", "fragment", "form_post"}},
                         {"subject_types_supported", {"pairwise"}},
                         {"id_token_signing_alg_values_supported", {"RS256"}},
                         {"response_types_supported", {"code", "id_token", "code id_token"}},
                         {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
                         {"issuer", authority + "/v2.0"},
                         {"authorization_endpoint", authority + "/oauth2/v2.0/authorize"},
                         {"end_session_endpoint", authority + "/oauth2/v2.0/logout"},
                         {"tenant_region_scope", "WW"},
                         {"cloud_instance_name", "microsoftonline.com"}});
                });
    server_->on("POST", "/botframework.com/oauth2/v2.0/token", [this](const RecordedRequest& r) {
        {
            std::lock_guard lock(mutex_);
            ++token_requests_;
            if (token_failures_left_ > 0) {
                --token_failures_left_;
                return json_answer(token_failure_status_, {{"error", "temporarily_unavailable"}});
            }
        }
        auto fields = form_fields(r.body);
        if (fields["grant_type"] != "client_credentials" || fields["client_id"] != app_id_ ||
            fields["client_secret"] != app_password_ ||
            fields["scope"] != "https://api.botframework.com/.default") {
            return json_answer(401,
                               {{"error", "invalid_client"},
                                {"error_description", "AADSTS7000215: Invalid client secret"}});
        }
        std::lock_guard lock(mutex_);
        issued_tokens_.push_back("fake-connector-token-" +
                                 std::to_string(issued_tokens_.size() + 1));
        return json_answer(200, {{"token_type", "Bearer"},
                                 {"expires_in", 3600},
                                 {"ext_expires_in", 3600},
                                 {"access_token", issued_tokens_.back()}});
    });
}

FakeBotFramework::~FakeBotFramework() = default;

std::string FakeBotFramework::openid_metadata_url() const {
    return server_->url("/v1/.well-known/openidconfiguration");
}

std::string FakeBotFramework::authority() const {
    return server_->url("/botframework.com");
}

std::string FakeBotFramework::token_url() const {
    return authority() + "/oauth2/v2.0/token";
}

std::string FakeBotFramework::service_url() const {
    return server_->url("/");
}

InboundClaims FakeBotFramework::valid_claims() const {
    InboundClaims claims;
    claims.issuer = kIssuer;
    claims.audience = app_id_;
    claims.service_url = service_url();
    claims.not_before = unix_now() - 60;
    claims.expires_at = unix_now() + 3600;
    claims.kid = kKeyId;
    return claims;
}

std::string FakeBotFramework::token(const InboundClaims& claims) const {
    const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", claims.kid}};
    const nlohmann::json payload = {{"iss", claims.issuer},
                                    {"aud", claims.audience},
                                    {"serviceurl", claims.service_url},
                                    {"nbf", claims.not_before},
                                    {"exp", claims.expires_at}};
    return (claims.sign_with_stranger ? stranger_ : key_)->sign(header, payload);
}

nlohmann::json FakeBotFramework::message(const std::string& conversation_id,
                                         const std::string& aad_object_id, const std::string& name,
                                         const std::string& text) {
    add_conversation(conversation_id);
    std::lock_guard lock(mutex_);
    return {
        {"type", "message"},
        {"id", "in-" + std::to_string(next_id_++)},
        {"channelId", "msteams"},
        {"serviceUrl", server_->url("/")},
        {"from", {{"id", "29:" + aad_object_id}, {"name", name}, {"aadObjectId", aad_object_id}}},
        {"recipient", {{"id", "28:" + app_id_}, {"name", "Hostline"}}},
        {"conversation",
         {{"id", conversation_id}, {"conversationType", "personal"}, {"tenantId", "tenant-1"}}},
        {"text", text},
        {"textFormat", "plain"}};
}

nlohmann::json FakeBotFramework::card_click(const std::string& conversation_id,
                                            const std::string& card_id,
                                            const std::string& aad_object_id,
                                            const std::string& name, const std::string& verb,
                                            std::int64_t job_id) {
    add_conversation(conversation_id);
    std::lock_guard lock(mutex_);
    return {
        {"type", "invoke"},
        {"name", "adaptiveCard/action"},
        {"id", "in-" + std::to_string(next_id_++)},
        {"channelId", "msteams"},
        {"serviceUrl", server_->url("/")},
        {"from", {{"id", "29:" + aad_object_id}, {"name", name}, {"aadObjectId", aad_object_id}}},
        {"recipient", {{"id", "28:" + app_id_}, {"name", "Hostline"}}},
        {"conversation",
         {{"id", conversation_id}, {"conversationType", "personal"}, {"tenantId", "tenant-1"}}},
        {"replyToId", card_id},
        {"value",
         {{"action",
           {{"type", "Action.Execute"},
            {"verb", verb},
            {"title", verb == "approve" ? "Approve" : "Deny"},
            {"data", {{"hostline", verb}, {"job", job_id}}}}},
          {"trigger", "manual"}}}};
}

void FakeBotFramework::add_conversation(const std::string& conversation_id) {
    {
        std::lock_guard lock(mutex_);
        if (std::find(conversations_.begin(), conversations_.end(), conversation_id) !=
            conversations_.end())
            return;
        conversations_.push_back(conversation_id);
    }
    server_->on("POST", "/v3/conversations/" + path_segment(conversation_id) + "/activities",
                [this, conversation_id](const RecordedRequest& r) {
                    return on_sink(r, conversation_id, "");
                });
}

TestResponse FakeBotFramework::on_sink(const RecordedRequest& request,
                                       const std::string& conversation_id,
                                       const std::string& activity_id) {
    std::unique_lock lock(mutex_);
    const std::string authorization = request.header("Authorization");
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    SinkCall& call = calls_.emplace_back();
    call.method = request.method;
    call.conversation_id = conversation_id;
    call.authorization = authorization;
    if (body.is_object() && body.contains("text") && body["text"].is_string())
        call.text = body["text"].get<std::string>();
    call.received = std::chrono::system_clock::now();
    changed_.notify_all();
    if (!scripted_.empty()) {
        ScriptedAnswer answer = std::move(scripted_.front());
        scripted_.pop_front();
        call.status = answer.status;
        TestResponse response{answer.status, std::move(answer.headers), std::move(answer.body)};
        response.delay = answer.delay;
        return response;
    }
    const bool known =
        std::any_of(issued_tokens_.begin(), issued_tokens_.end(),
                    [&](const std::string& t) { return authorization == "Bearer " + t; });
    if (!known) {
        call.status = 401;
        return json_answer(401, {{"message", "Authorization has been denied"}});
    }
    if (body.is_discarded() || !body.is_object() || body.value("type", "") != "message") {
        call.status = 400;
        return json_answer(400, {{"error", {{"code", "BadArgument"}}}});
    }
    call.status = activity_id.empty() ? 201 : 200;
    SentActivity sent{request.method, conversation_id, activity_id, authorization, body};
    if (sent.activity_id.empty()) sent.activity_id = "out-" + std::to_string(next_id_++);
    activities_.push_back(sent);
    changed_.notify_all();
    lock.unlock();
    if (activity_id.empty()) {
        server_->on("PUT",
                    "/v3/conversations/" + path_segment(conversation_id) + "/activities/" +
                        path_segment(sent.activity_id),
                    [this, conversation_id, id = sent.activity_id](const RecordedRequest& r) {
                        return on_sink(r, conversation_id, id);
                    });
    }
    return json_answer(activity_id.empty() ? 201 : 200, {{"id", sent.activity_id}});
}

std::vector<SentActivity> FakeBotFramework::activities() const {
    std::lock_guard lock(mutex_);
    return activities_;
}

bool FakeBotFramework::wait_for_activities(std::size_t count,
                                           std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return activities_.size() >= count; });
}

void FakeBotFramework::answer_next(int count, ScriptedAnswer answer) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i) scripted_.push_back(answer);
}

void FakeBotFramework::throttle(int count, int retry_after_seconds) {
    answer_next(count, {429,
                        {{"Retry-After", std::to_string(retry_after_seconds)}},
                        R"({"error":{"code":"TooManyRequests"}})"});
}

std::vector<SinkCall> FakeBotFramework::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

int FakeBotFramework::tokens_issued() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(issued_tokens_.size());
}

void FakeBotFramework::fail_token_requests(int count, int status) {
    std::lock_guard lock(mutex_);
    token_failures_left_ = count;
    token_failure_status_ = status;
}

int FakeBotFramework::token_requests() const {
    std::lock_guard lock(mutex_);
    return token_requests_;
}

}  // namespace hostline::chat::teams::test
