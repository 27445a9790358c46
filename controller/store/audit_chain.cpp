#include "controller/store/audit_chain.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace hostline::controller {
namespace {

void append_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
        std::abort();  // SHA-256 is always available in OpenSSL 3
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(std::size_t{size} * 2);
    for (unsigned int i = 0; i < size; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

}  // namespace

std::string canonical_audit_detail(const std::map<std::string, std::string>& detail) {
    // nlohmann::json keeps object keys in a std::map, so they come out sorted.
    return nlohmann::json(detail).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string audit_hash_input(const AuditRow& row) {
    std::string out = "hostline-audit-v1";
    append_field(out, std::to_string(row.id));
    append_field(out, std::to_string(row.at_ms));
    append_field(out, row.kind);
    append_field(out, row.actor);
    append_field(out, row.subject);
    append_field(out, row.detail);
    append_field(out, row.prev_hash);
    return out;
}

std::string audit_hash(const AuditRow& row) {
    return sha256_hex(audit_hash_input(row));
}

bool AuditChainCheck::add(const AuditRow& row) {
    if (result_.broken_row != 0) return false;
    ++result_.rows;
    if (audit_hash(row) != row.hash)
        return broken(row, fmt::format("row {}: hash does not match its contents", row.id));
    if (last_id_ == 0 && row.prev_hash != kAuditGenesisHash)
        return broken(row,
                      fmt::format("row {}: the first row's prev_hash is not 64 zeros", row.id));
    if (last_id_ != 0 && row.id != last_id_ + 1)
        return broken(row, fmt::format("row {}: rows {} to {} are missing", row.id, last_id_ + 1,
                                       row.id - 1));
    if (last_id_ == 0 && row.id != 1)
        return broken(row, fmt::format("row {}: rows 1 to {} are missing", row.id, row.id - 1));
    if (row.prev_hash != last_hash_)
        return broken(row,
                      fmt::format("row {}: prev_hash does not match row {}", row.id, last_id_));
    last_id_ = row.id;
    last_hash_ = row.hash;
    return true;
}

bool AuditChainCheck::broken(const AuditRow& row, std::string problem) {
    result_.broken_row = row.id;
    result_.problem = std::move(problem);
    return false;
}

}  // namespace hostline::controller
