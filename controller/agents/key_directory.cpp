#include "controller/agents/key_directory.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <filesystem>

namespace hostline::controller {

KeyDirectory::KeyDirectory(std::string dir) : dir_(std::move(dir)) {
    reload();
}

bool KeyDirectory::directory_changed() const {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) return false;
    return st.st_mtim.tv_sec != seen_mtime_.tv_sec || st.st_mtim.tv_nsec != seen_mtime_.tv_nsec;
}

void KeyDirectory::reload() {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) seen_mtime_ = st.st_mtim;
    std::map<std::string, std::string> keys;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
        if (entry.path().extension() != ".pub") continue;
        auto key = transport::read_public_key(entry.path().string());
        if (!key) {
            spdlog::warn("ignoring accepted agent key: {}", key.error().message);
            continue;
        }
        keys[*key] = entry.path().stem().string();
    }
    name_by_key_ = std::move(keys);
}

std::optional<std::string> KeyDirectory::agent_for_key(const std::string& public_key) {
    auto it = name_by_key_.find(public_key);
    if (it == name_by_key_.end() && directory_changed()) {
        reload();
        it = name_by_key_.find(public_key);
    }
    if (it == name_by_key_.end()) return std::nullopt;
    return it->second;
}

}  // namespace hostline::controller
