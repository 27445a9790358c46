#include "chat/irc/sasl.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>

namespace hostline::chat::irc {
namespace {

constexpr std::size_t kAuthenticateChunkBytes = 400;

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string encoded(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // EVP adds a NUL
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    encoded.resize(static_cast<std::size_t>(n));
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
