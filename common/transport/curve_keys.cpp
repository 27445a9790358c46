#include "common/transport/curve_keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hostline::transport {
namespace {

std::string trim(std::string text) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
    text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
    return text;
}

Result<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    return trim(ss.str());
}

}  // namespace

std::string key_fingerprint(std::string_view public_key) {
    // libsodium, not OpenSSL: the agent then maps no libcrypto (docs/performance.md).
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(public_key.data()),
                       public_key.size());
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out = "SHA256:";
    for (unsigned int i = 0; i < 8; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

bool is_curve_key(std::string_view text) {
    if (text.size() != 40) return false;
    static constexpr std::string_view kZ85 =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
    return text.find_first_not_of(kZ85) == std::string_view::npos;
}

Result<CurveKeyPair> generate_key_pair() {
    char public_key[41] = {};
    char secret_key[41] = {};
    if (zmq_curve_keypair(public_key, secret_key) != 0)
        return fail(std::string("cannot create a CURVE key pair: ") + zmq_strerror(zmq_errno()) +
                    " (is libzmq built with CURVE?)");
    return CurveKeyPair{public_key, secret_key};
}

Result<void> write_file_atomically(const std::string& path, std::string_view text, unsigned mode) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return fail(tmp + ": " + std::strerror(errno));
    ::fchmod(fd, mode);
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return fail(path + ": " + std::strerror(err));
    }
    return {};
}

Result<std::string> read_public_key(const std::string& path) {
    auto text = read_small_file(path);
    if (!text) return text.error();
    if (!is_curve_key(*text)) return fail(path + ": not a CURVE public key (40 Z85 characters)");
    return *text;
}

Result<CurveKeyPair> load_or_create_key_pair(const std::string& dir, const std::string& name) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail("cannot create " + dir + ": " + std::strerror(errno));
    std::string secret_path = dir + "/" + name + ".key";
    std::string public_path = dir + "/" + name + ".pub";

    struct stat st {};
    if (::stat(secret_path.c_str(), &st) != 0) {
        if (errno != ENOENT) return fail(secret_path + ": " + std::strerror(errno));
        auto pair = generate_key_pair();
        if (!pair) return pair;
        if (auto w = write_file_atomically(secret_path, pair->secret_key + "\n", 0600); !w)
            return w.error();
        if (auto w = write_file_atomically(public_path, pair->public_key + "\n", 0644); !w)
            return w.error();
        return pair;
    }
    if ((st.st_mode & 077) != 0)
        return fail(secret_path + ": the secret key is readable by others; chmod 600 it");
    auto secret = read_small_file(secret_path);
    if (!secret) return secret.error();
    if (!is_curve_key(*secret)) return fail(secret_path + ": not a CURVE secret key");
    char public_key[41] = {};
    if (zmq_curve_public(public_key, secret->c_str()) != 0)
        return fail(secret_path + ": cannot derive the public key");
    CurveKeyPair pair{public_key, *secret};
    // Keep the .pub file beside it (someone may have deleted it).
    if (::access(public_path.c_str(), F_OK) != 0)
        (void)write_file_atomically(public_path, pair.public_key + "\n", 0644);
    return pair;
}

}  // namespace hostline::transport
