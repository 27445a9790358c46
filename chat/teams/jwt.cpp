#include "chat/teams/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "chat/teams/base64url.hpp"

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

constexpr int kMinModulusBits = 2048;
constexpr int kMaxModulusBits = 8192;
constexpr std::size_t kMaxExponentBytes = 8;

// Parses a part that must be a JSON object; nlohmann's non-throwing parse.
Result<json> parse_object(const std::string& text, std::string_view what) {
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return fail(std::string(what) + " is not valid JSON");
    if (!value.is_object()) return fail(std::string(what) + " is not a JSON object");
    return value;
}

Result<std::string> optional_string(const json& object, const char* key, std::string_view what) {
    const auto it = object.find(key);
    if (it == object.end()) return std::string();
    if (!it->is_string()) {
        return fail(std::string(what) + "'s \"" + key + "\" is not a string");
    }
    return it->get<std::string>();
}

// A NumericDate: an integer or a finite number of seconds; fractions are dropped.
Result<std::optional<std::int64_t>> optional_date(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end()) return std::optional<std::int64_t>();
    const std::string error = std::string("the token's \"") + key + "\" claim is not a date";
    if (it->is_number_integer() && !it->is_number_unsigned()) {
        return std::optional<std::int64_t>(it->get<std::int64_t>());
    }
    if (it->is_number_unsigned()) {
        const auto value = it->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return fail(error);
        }
        return std::optional<std::int64_t>(static_cast<std::int64_t>(value));
    }
    if (it->is_number_float()) {
        const double value = it->get<double>();
        // ±2^62 s is far beyond any real date and keeps the cast defined.
        if (!std::isfinite(value) || std::fabs(value) > 4.6e18) return fail(error);
        return std::optional<std::int64_t>(static_cast<std::int64_t>(std::floor(value)));
    }
    return fail(error);
}

Result<JwtClaims> read_claims(const json& payload) {
    JwtClaims claims;
    auto issuer = optional_string(payload, "iss", "the token");
    if (!issuer) return issuer.error();
    claims.issuer = std::move(*issuer);
    if (const auto aud = payload.find("aud"); aud != payload.end()) {
        if (aud->is_string()) {
            claims.audiences.push_back(aud->get<std::string>());
        } else if (aud->is_array()) {
            for (const auto& entry : *aud) {
                if (!entry.is_string()) return fail("the token's \"aud\" holds a non-string");
                claims.audiences.push_back(entry.get<std::string>());
            }
        } else {
            return fail("the token's \"aud\" is neither a string nor an array");
        }
    }
    auto expires_at = optional_date(payload, "exp");
    if (!expires_at) return expires_at.error();
    claims.expires_at = *expires_at;
    auto not_before = optional_date(payload, "nbf");
    if (!not_before) return not_before.error();
    claims.not_before = *not_before;
    auto service_url = optional_string(payload, "serviceurl", "the token");
    if (!service_url) return service_url.error();
    claims.service_url = std::move(*service_url);
    return claims;
}

Result<CompactJws> parse_parts(std::string_view token) {
    const auto first_dot = token.find('.');
    const auto second_dot =
        first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos ||
        token.find('.', second_dot + 1) != std::string_view::npos) {
        return fail("the token is not a compact JWS (it must have exactly three parts)");
    }
    const auto header_text = token.substr(0, first_dot);
    const auto payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const auto signature_text = token.substr(second_dot + 1);
    if (header_text.empty() || payload_text.empty() || signature_text.empty()) {
        return fail("the token has an empty part");
    }

    auto header_json = base64url_decode(header_text, "the token's header");
    if (!header_json) return header_json.error();
    auto payload_json = base64url_decode(payload_text, "the token's payload");
    if (!payload_json) return payload_json.error();
    auto signature = base64url_decode(signature_text, "the token's signature");
    if (!signature) return signature.error();

    auto header = parse_object(*header_json, "the token's header");
    if (!header) return header.error();
    auto payload = parse_object(*payload_json, "the token's payload");
    if (!payload) return payload.error();

    CompactJws jws;
    auto alg = optional_string(*header, "alg", "the token's header");
    if (!alg) return alg.error();
    if (alg->empty()) return fail("the token's header names no algorithm");
    jws.header.alg = std::move(*alg);
    auto kid = optional_string(*header, "kid", "the token's header");
    if (!kid) return kid.error();
    jws.header.kid = std::move(*kid);

    auto claims = read_claims(*payload);
    if (!claims) return claims.error();
    jws.claims = std::move(*claims);
    jws.signing_input = std::string(token.substr(0, second_dot));
    jws.signature = std::move(*signature);
    return jws;
}

const EVP_MD* digest_for(std::string_view alg) {
    if (alg == "RS256") return EVP_sha256();
    if (alg == "RS384") return EVP_sha384();
    if (alg == "RS512") return EVP_sha512();
    return nullptr;
}

struct BignumFree {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bignum = std::unique_ptr<BIGNUM, BignumFree>;

Bignum to_bignum(const std::string& big_endian) {
    return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                            static_cast<int>(big_endian.size()), nullptr));
}

}  // namespace

Result<CompactJws> parse_compact_jws(std::string_view token) {
    if (token.size() > kMaxTokenBytes) {
        return fail("the token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
    }
    try {
        return parse_parts(token);
    } catch (const json::exception& e) {
        // The checks above should leave nothing to throw; this keeps a surprise a refusal.
        return fail(std::string("the token could not be read: ") + e.what());
    }
}

bool is_accepted_algorithm(std::string_view alg) {
    return digest_for(alg) != nullptr;
}

Result<RsaPublicKey> RsaPublicKey::from_jwk(std::string_view n, std::string_view e) {
    auto modulus = base64url_decode(n, "the key's modulus (n)");
    if (!modulus) return modulus.error();
    auto exponent = base64url_decode(e, "the key's exponent (e)");
    if (!exponent) return exponent.error();
    if (exponent->empty() || exponent->size() > kMaxExponentBytes) {
        return fail("the key's exponent (e) has an unusable length");
    }

    Bignum n_bn = to_bignum(*modulus);
    Bignum e_bn = to_bignum(*exponent);
    if (!n_bn || !e_bn) return fail("out of memory reading an RSA key");
    const int bits = BN_num_bits(n_bn.get());
    if (bits < kMinModulusBits || bits > kMaxModulusBits) {
        return fail("the key's modulus has " + std::to_string(bits) +
                    " bits (2048 to 8192 accepted)");
    }
    if (!BN_is_odd(e_bn.get()) || BN_is_one(e_bn.get())) {
        return fail("the key's exponent (e) is not a valid RSA exponent");
    }

    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(),
                                                                            &OSSL_PARAM_BLD_free);
    if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
        ERR_clear_error();
        return fail("could not build an RSA key from the JWK");
    }
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(
        OSSL_PARAM_BLD_to_param(builder.get()), &OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), &EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        ERR_clear_error();
        return fail("could not build an RSA key from the JWK");
    }
    return RsaPublicKey(std::shared_ptr<evp_pkey_st>(key, &EVP_PKEY_free));
}

Result<void> RsaPublicKey::verify(std::string_view alg, std::string_view signing_input,
                                  std::string_view signature) const {
    const EVP_MD* digest = digest_for(alg);
    if (digest == nullptr) {
        return fail("the token's algorithm \"" + std::string(alg.substr(0, 16)) +
                    "\" is not accepted (RS256, RS384 or RS512)");
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    const bool verified =
        context && EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, key_.get()) == 1 &&
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(),
                         reinterpret_cast<const unsigned char*>(signing_input.data()),
                         signing_input.size()) == 1;
    ERR_clear_error();  // a failed check leaves errors on this thread's queue
    if (!verified) return fail("the token's signature does not match its signing key");
    return {};
}

}  // namespace hostline::chat::teams
