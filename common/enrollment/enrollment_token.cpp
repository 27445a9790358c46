#include "common/enrollment/enrollment_token.hpp"

#include <array>

#include "common/transport/curve_keys.hpp"

namespace hostline::enrollment {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxTokenLength = 2048;

std::string base64url(std::string_view bytes) {
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
    }
    std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        if (rest == 2) out += kAlphabet[(v >> 6) & 63];
    }
    return out;
}

Result<std::string> from_base64url(std::string_view text) {
    std::array<int, 256> value{};
    value.fill(-1);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
        value[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    if (text.size() % 4 == 1) return fail("the token is truncated");
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v = value[static_cast<unsigned char>(c)];
        if (v < 0) return fail("the token holds a character that is not base64url");
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

bool is_endpoint(std::string_view text) {
    if (text.rfind("tcp://", 0) != 0 || text.size() <= 6 || text.size() > 255) return false;
    for (char c : text)
        if (c <= ' ' || c >= 127) return false;
    return text.find(':', 6) != std::string_view::npos;
}

}  // namespace

bool is_token_secret(std::string_view text) {
    if (text.size() != 64) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string encode_token(const EnrollmentToken& token) {
    return std::string(kTokenPrefix) +
           base64url(token.endpoint + "\n" + token.controller_key + "\n" + token.secret);
}

Result<EnrollmentToken> decode_token(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.remove_suffix(1);
    if (text.size() > kMaxTokenLength) return fail("the token is too long to be a Hostline token");
    if (text.rfind("hle", 0) == 0 && text.rfind(kTokenPrefix, 0) != 0) {
        auto dot = text.find('.');
        return fail("the token is of version '" +
                    std::string(text.substr(3, std::min<std::size_t>(dot, 12) - 3)) +
                    "'; this agent understands version 1 (hle1.)");
    }
    if (text.rfind(kTokenPrefix, 0) != 0)
        return fail("this is not a Hostline enrollment token (it should start with 'hle1.')");
    auto payload = from_base64url(text.substr(kTokenPrefix.size()));
    if (!payload) return payload.error();
    EnrollmentToken token;
    std::size_t first = payload->find('\n');
    std::size_t second = first == std::string::npos ? first : payload->find('\n', first + 1);
    if (second == std::string::npos) return fail("the token is truncated");
    token.endpoint = payload->substr(0, first);
    token.controller_key = payload->substr(first + 1, second - first - 1);
    token.secret = payload->substr(second + 1);
    if (!is_endpoint(token.endpoint))
        return fail("the token's controller endpoint is not a tcp://HOST:PORT address");
    if (!transport::is_curve_key(token.controller_key))
        return fail("the token's controller key is not a CURVE public key");
    if (!is_token_secret(token.secret))
        return fail("the token is truncated or its secret is damaged");
    return token;
}

}  // namespace hostline::enrollment
