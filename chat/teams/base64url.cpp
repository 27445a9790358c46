#include "chat/teams/base64url.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace hostline::chat::teams {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int, 256> make_decode_table() {
    std::array<int, 256> table{};
    for (auto& entry : table) entry = -1;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    }
    return table;
}
constexpr std::array<int, 256> kDecodeTable = make_decode_table();

}  // namespace

// OpenSSL's base64, then the URL alphabet without padding (RFC 4648, section 5).
std::string base64url_encode(std::string_view bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP adds a NUL
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    encoded.resize(static_cast<std::size_t>(n));
    while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
    for (char& c : encoded) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return encoded;
}

Result<std::string> base64url_decode(std::string_view text, std::string_view what) {
    if (text.size() % 4 == 1) {
        return fail(std::string(what) + " is not valid base64url (impossible length)");
    }
    std::string decoded;
    decoded.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (const char c : text) {
        const int value = kDecodeTable[static_cast<unsigned char>(c)];
        if (value < 0) return fail(std::string(what) + " is not valid base64url");
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            decoded += static_cast<char>((bits >> bit_count) & 0xFF);
        }
    }
    // Leftover bits must be zero, else two encodings would decode to the same bytes.
    if ((bits & ((1u << bit_count) - 1)) != 0) {
        return fail(std::string(what) + " is not valid base64url (non-zero padding bits)");
    }
    return decoded;
}

}  // namespace hostline::chat::teams
