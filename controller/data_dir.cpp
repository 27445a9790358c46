#include "controller/data_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hostline::controller {
namespace {

bool exists(const std::string& path) {
    return ::access(path.c_str(), F_OK) == 0;
}

// True when it made the directory, false when it was there.
Result<bool> make_dir(const std::string& path, mode_t mode) {
    if (::mkdir(path.c_str(), mode) == 0) return true;
    if (errno == EEXIST) return false;
    return fail("cannot create " + path + ": " + std::strerror(errno));
}

// The admin token for the HTTP API: 32 random bytes as hex, in a 0600 file.
Result<std::string> load_or_create_token(const std::string& path, bool* created) {
    std::ifstream in(path);
    std::string token;
    if (in && std::getline(in, token) && token.size() >= 32) return token;
    std::ifstream random("/dev/urandom", std::ios::binary);
    unsigned char bytes[32];
    if (!random.read(reinterpret_cast<char*>(bytes), sizeof bytes))
        return fail("cannot read /dev/urandom for the admin token");
    static const char* kHex = "0123456789abcdef";
    token.clear();
    for (unsigned char b : bytes) {
        token += kHex[b >> 4];
        token += kHex[b & 15];
    }
    if (auto w = transport::write_file_atomically(path, token + "\n", 0600); !w) return w.error();
    *created = true;
    return token;
}

}  // namespace

Result<DataDir> prepare_data_dir(const ControllerConfig& config) {
    DataDir dir;
    for (const auto& [path, what] :
         {std::pair{config.data_dir, "the data directory"},
          std::pair{config.accepted_agents_dir(), "the accepted agents' keys directory"}}) {
        auto made = make_dir(path, 0750);
        if (!made) return made.error();
        if (*made) dir.created.push_back("created " + std::string(what) + " " + path + " (0750)");
    }
    const std::string secret_key = config.keys_dir() + "/controller.key";
    const bool had_keys = exists(secret_key);
    auto keys = transport::load_or_create_key_pair(config.keys_dir(), "controller");
    if (!keys) return keys.error();
    dir.keys = std::move(*keys);
    if (!had_keys)
        dir.created.push_back("created the controller's CURVE key pair " + secret_key +
                              " (0600) and controller.pub (public key " + dir.keys.public_key +
                              ")");
    bool token_created = false;
    auto token = load_or_create_token(config.admin_token_path(), &token_created);
    if (!token) return token.error();
    dir.admin_token = std::move(*token);
    if (token_created)
        dir.created.push_back("created the admin API token " + config.admin_token_path() +
                              " (0600)");
    return dir;
}

}  // namespace hostline::controller
