// Which agent keys the controller accepts, which wait for an admin and which are revoked,
// kept as files so the state survives a restart and an admin can read it:
//   DIR/NAME.pub                  accepted: NAME's CURVE public key
//   DIR/pending/NAME.pub          pending: a key that said hello as NAME, waiting for accept
//   DIR/revoked/NAME.FP.pub       revoked: refused at the handshake forever (FP: fingerprint)
// Copying a key to DIR/NAME.pub by hand still accepts it (the directory is rescanned when
// an unknown key shows up and the directory changed).
//
// Thread-safe: the transport thread asks status_of() for every handshake and message; the
// io thread changes state (enrollment, accept, revoke). Changes are small atomic file
// writes and renames.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"
#include "common/transport/router_thread.hpp"

namespace hostline::controller {

// "SHA256:" and the first 16 hex digits of the SHA-256 of the key's Z85 text; the agent
// prints the same at start, so an admin can compare before accepting.
std::string key_fingerprint(const std::string& public_key);

struct AgentKey {
    enum class State { accepted, pending, revoked };
    std::string name;
    std::string public_key;
    std::string fingerprint;
    State state = State::pending;
};

const char* state_name(AgentKey::State state);

class KeyDirectory : public transport::KeyAuthority {
  public:
    static constexpr std::size_t kMaxPending = 1000;

    explicit KeyDirectory(std::string dir);

    // Rescans the directory when the key is unknown and the directory has changed.
    transport::KeyStatus status_of(const std::string& public_key) override;

    // Reads every key file now; logs files that are not valid keys.
    void reload();

    // Records key as pending under name. Returns true when it is newly pending. Errors: the
    // name is accepted or pending with another key, the name is not a valid agent name, too
    // many keys are pending.
    Result<bool> add_pending(const std::string& name, const std::string& public_key);
    // Accepts the key pending under name.
    Result<AgentKey> accept_pending(const std::string& name);
    // Accepts key as name (enrollment with a token). Error: the name is taken by another key.
    Result<AgentKey> accept(const std::string& name, const std::string& public_key);
    // Revokes the key accepted (or pending) under name: it is refused from now on.
    Result<AgentKey> revoke(const std::string& name);

    // Every key: accepted, pending and revoked, by state then name.
    std::vector<AgentKey> keys();
    bool is_accepted(const std::string& name);

  private:
    void reload_locked();
    bool directory_changed() const;
    Result<void> check_name_free(const std::string& name, const std::string& public_key);

    const std::string dir_;

    // Guarded by mutex_.
    std::mutex mutex_;
    std::map<std::string, std::string> accepted_;  // name -> key
    std::map<std::string, std::string> pending_;   // name -> key
    std::map<std::string, std::string> revoked_;   // key -> name
    // Looked up for every message an agent sends (status_of), on two threads: hashed.
    std::unordered_map<std::string, std::string> name_by_key_;
    timespec seen_mtime_{};
};

// Agent names: 1-64 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool is_agent_name(const std::string& name);

}  // namespace hostline::controller
