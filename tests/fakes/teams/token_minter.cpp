#include "tests/fakes/teams/token_minter.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <cstdlib>

#include "chat/teams/base64url.hpp"

namespace hostline::chat::teams::test {
namespace {

std::string bignum_bytes(EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) std::abort();
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return bytes;
}

std::string signing_input(const nlohmann::json& header, const nlohmann::json& payload) {
    return base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
}

}  // namespace

TestKey::TestKey(int bits) : key_(EVP_RSA_gen(static_cast<unsigned int>(bits)), &EVP_PKEY_free) {
    if (!key_) std::abort();
}

nlohmann::json TestKey::jwk(const std::string& kid,
                            const std::vector<std::string>& endorsements) const {
    return {{"kty", "RSA"},
            {"use", "sig"},
            {"kid", kid},
            {"x5t", kid},
            {"n", base64url_encode(bignum_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64url_encode(bignum_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_E))},
            {"endorsements", endorsements}};
}

std::string TestKey::sign(const nlohmann::json& header, const nlohmann::json& payload,
                          const std::string& alg) const {
    const EVP_MD* digest = alg == "RS384"   ? EVP_sha384()
                           : alg == "RS512" ? EVP_sha512()
                                            : EVP_sha256();
    const std::string input = signing_input(header, payload);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    std::size_t size = 0;
    if (EVP_DigestSignInit(context, nullptr, digest, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(context, nullptr, &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        std::abort();
    }
    std::string signature(size, '\0');
    if (EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        std::abort();
    }
    EVP_MD_CTX_free(context);
    signature.resize(size);
    return input + "." + base64url_encode(signature);
}

std::string sign_hs256(const nlohmann::json& header, const nlohmann::json& payload,
                       const std::string& secret) {
    const std::string input = signing_input(header, payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &size);
    return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), size));
}

Fetch FakeKeyServer::fetch() {
    return [this](const std::string& url, std::function<void(Result<std::string>)> done) {
        ++requests[url];
        auto answer = [this, url, done = std::move(done)] {
            const auto it = documents.find(url);
            if (it == documents.end()) return done(fail("HTTP 404 from " + url));
            done(it->second);
        };
        if (hold) {
            held_.push_back(std::move(answer));
        } else {
            answer();
        }
    };
}

void FakeKeyServer::release() {
    // Answers may fetch again (metadata, then keys): keep going until nothing is held.
    while (!held_.empty()) {
        auto answers = std::move(held_);
        held_.clear();
        for (auto& answer : answers) answer();
    }
}

int FakeKeyServer::total_requests() const {
    int total = 0;
    for (const auto& [url, count] : requests) total += count;
    return total;
}

}  // namespace hostline::chat::teams::test
