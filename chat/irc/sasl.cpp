#include "chat/irc/sasl.hpp"

#include <algorithm>
#include <cstdint>

namespace hostline::chat::irc {
namespace {

constexpr std::size_t kAuthenticateChunkBytes = 400;
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string encoded;
    encoded.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t group = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            group <<= 8;
            if (k < n) group |= static_cast<unsigned char>(bytes[i + k]);
        }
        for (std::size_t k = 0; k < 4; ++k) {
            encoded += k <= n ? kBase64Alphabet[(group >> (18 - 6 * k)) & 0x3F] : '=';
        }
    }
    return encoded;
}

std::string sasl_plain_payload(std::string_view authzid, std::string_view authcid,
                               std::string_view password) {
    std::string message;
    message.reserve(authzid.size() + authcid.size() + password.size() + 2);
    message.append(authzid).append(1, '\0').append(authcid).append(1, '\0').append(password);
    return base64_encode(message);
}

std::vector<std::string> authenticate_chunks(std::string_view payload) {
    std::vector<std::string> chunks;
    for (std::size_t i = 0; i < payload.size(); i += kAuthenticateChunkBytes) {
        chunks.emplace_back(payload.substr(i, kAuthenticateChunkBytes));
    }
    if (chunks.empty() || chunks.back().size() == kAuthenticateChunkBytes) chunks.emplace_back("+");
    return chunks;
}

}  // namespace hostline::chat::irc
