#include "controller/agents/key_directory.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"agents"};

namespace hostline::controller {
namespace {

std::map<std::string, std::string> read_keys(const std::string& dir) {
    std::map<std::string, std::string> keys;  // file stem -> key
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".pub") continue;
        auto key = transport::read_public_key(entry.path().string());
        if (!key) {
            logger->warn("ignoring agent key: {}", key.error().message);
            continue;
        }
        keys[entry.path().stem().string()] = *key;
    }
    return keys;
}

Result<void> make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST)
        return fail("cannot create " + path + ": " + std::strerror(errno));
    return {};
}

Result<void> move_file(const std::string& from, const std::string& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0)
        return fail("cannot move " + from + " to " + to + ": " + std::strerror(errno));
    return {};
}

}  // namespace

std::string key_fingerprint(const std::string& public_key) {
    return transport::key_fingerprint(public_key);
}

const char* state_name(AgentKey::State state) {
    switch (state) {
        case AgentKey::State::accepted:
            return "accepted";
        case AgentKey::State::pending:
            return "pending";
        case AgentKey::State::revoked:
            return "revoked";
    }
    return "?";
}

bool is_agent_name(const std::string& name) {
    if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-') return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    return true;
}

KeyDirectory::KeyDirectory(std::string dir) : dir_(std::move(dir)) {
    reload();
}

bool KeyDirectory::directory_changed() const {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) return false;
    return st.st_mtim.tv_sec != seen_mtime_.tv_sec || st.st_mtim.tv_nsec != seen_mtime_.tv_nsec;
}

void KeyDirectory::reload() {
    std::lock_guard lock(mutex_);
    reload_locked();
}

void KeyDirectory::reload_locked() {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) seen_mtime_ = st.st_mtim;
    accepted_ = read_keys(dir_);
    pending_ = read_keys(dir_ + "/pending");
    revoked_.clear();
    for (const auto& [stem, key] : read_keys(dir_ + "/revoked"))
        revoked_[key] = stem.substr(0, stem.find('.'));
    name_by_key_.clear();
    for (const auto& [name, key] : accepted_) {
        if (revoked_.count(key)) continue;  // revoked wins over a copy left behind
        name_by_key_[key] = name;
    }
}

transport::KeyStatus KeyDirectory::status_of(const std::string& public_key) {
    std::lock_guard lock(mutex_);
    if (revoked_.count(public_key)) return {transport::KeyStatus::State::revoked, {}};
    auto it = name_by_key_.find(public_key);
    if (it == name_by_key_.end() && directory_changed()) {
        reload_locked();
        if (revoked_.count(public_key)) return {transport::KeyStatus::State::revoked, {}};
        it = name_by_key_.find(public_key);
    }
    if (it == name_by_key_.end()) return {transport::KeyStatus::State::unknown, {}};
    return {transport::KeyStatus::State::accepted, it->second};
}

Result<void> KeyDirectory::check_name_free(const std::string& name, const std::string& key) {
    if (!is_agent_name(name))
        return fail("'" + name.substr(0, 64) +
                    "' is not a valid agent name (1-64 letters, digits, '.', '_', '-')");
    auto taken = accepted_.find(name);
    if (taken != accepted_.end() && taken->second != key)
        return fail("the name " + name + " is already taken by another agent (key " +
                    key_fingerprint(taken->second) + "); this key is " + key_fingerprint(key));
    return {};
}

Result<bool> KeyDirectory::add_pending(const std::string& name, const std::string& key) {
    std::lock_guard lock(mutex_);
    if (auto free = check_name_free(name, key); !free) return free.error();
    auto it = pending_.find(name);
    if (it != pending_.end()) {
        if (it->second == key) return false;
        return fail("another key (" + key_fingerprint(it->second) + ") is already waiting as " +
                    name + "; this key is " + key_fingerprint(key));
    }
    if (pending_.size() >= kMaxPending)
        return fail("too many agents are waiting to be accepted; ask an admin");
    if (auto made = make_dir(dir_ + "/pending"); !made) return made.error();
    if (auto w =
            transport::write_file_atomically(dir_ + "/pending/" + name + ".pub", key + "\n", 0640);
        !w)
        return w.error();
    pending_[name] = key;
    return true;
}

Result<AgentKey> KeyDirectory::accept_pending(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(name);
    if (it == pending_.end()) {
        if (accepted_.count(name)) return fail("agent " + name + " is already accepted");
        return fail("no agent named " + name + " is waiting to be accepted");
    }
    std::string key = it->second;
    if (auto free = check_name_free(name, key); !free) return free.error();
    if (auto moved = move_file(dir_ + "/pending/" + name + ".pub", dir_ + "/" + name + ".pub");
        !moved)
        return moved.error();
    pending_.erase(it);
    accepted_[name] = key;
    name_by_key_[key] = name;
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) seen_mtime_ = st.st_mtim;
    return AgentKey{name, key, key_fingerprint(key), AgentKey::State::accepted};
}

Result<AgentKey> KeyDirectory::accept(const std::string& name, const std::string& key) {
    std::lock_guard lock(mutex_);
    if (auto free = check_name_free(name, key); !free) return free.error();
    if (revoked_.count(key)) return fail("this agent's key was revoked");
    auto waiting = pending_.find(name);
    if (waiting != pending_.end() && waiting->second != key)
        return fail("another key (" + key_fingerprint(waiting->second) + ") is waiting as " + name +
                    "; accept or revoke it first");
    if (auto w = transport::write_file_atomically(dir_ + "/" + name + ".pub", key + "\n", 0640); !w)
        return w.error();
    if (waiting != pending_.end()) {
        std::remove((dir_ + "/pending/" + name + ".pub").c_str());
        pending_.erase(waiting);
    }
    accepted_[name] = key;
    name_by_key_[key] = name;
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) seen_mtime_ = st.st_mtim;
    return AgentKey{name, key, key_fingerprint(key), AgentKey::State::accepted};
}

Result<AgentKey> KeyDirectory::revoke(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::string from;
    std::string key;
    if (auto it = accepted_.find(name); it != accepted_.end()) {
        from = dir_ + "/" + name + ".pub";
        key = it->second;
    } else if (auto p = pending_.find(name); p != pending_.end()) {
        from = dir_ + "/pending/" + name + ".pub";
        key = p->second;
    } else {
        return fail("no agent named " + name + " is accepted or pending");
    }
    std::string fingerprint = key_fingerprint(key);
    if (auto made = make_dir(dir_ + "/revoked"); !made) return made.error();
    std::string hex = fingerprint.substr(7);
    if (auto moved = move_file(from, dir_ + "/revoked/" + name + "." + hex + ".pub"); !moved)
        return moved.error();
    accepted_.erase(name);
    pending_.erase(name);
    name_by_key_.erase(key);
    revoked_[key] = name;
    struct stat st {};
    if (::stat(dir_.c_str(), &st) == 0) seen_mtime_ = st.st_mtim;
    return AgentKey{name, key, fingerprint, AgentKey::State::revoked};
}

std::vector<AgentKey> KeyDirectory::keys() {
    std::lock_guard lock(mutex_);
    if (directory_changed()) reload_locked();
    std::vector<AgentKey> out;
    for (const auto& [name, key] : accepted_)
        if (!revoked_.count(key))
            out.push_back({name, key, key_fingerprint(key), AgentKey::State::accepted});
    for (const auto& [name, key] : pending_)
        out.push_back({name, key, key_fingerprint(key), AgentKey::State::pending});
    for (const auto& [key, name] : revoked_)
        out.push_back({name, key, key_fingerprint(key), AgentKey::State::revoked});
    return out;
}

bool KeyDirectory::is_accepted(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = accepted_.find(name);
    return it != accepted_.end() && !revoked_.count(it->second);
}

}  // namespace hostline::controller
