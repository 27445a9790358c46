// Which agent keys the controller accepts: one file per agent, DIR/NAME.pub, holding the
// agent's CURVE public key (the agent prints it and keeps it in its state dir). Accepting an
// agent is copying its key there; no restart is needed.
//
// Called on the transport thread only (KeyAuthority); not thread-safe.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>

#include "common/transport/router_thread.hpp"

namespace hostline::controller {

class KeyDirectory : public transport::KeyAuthority {
  public:
    explicit KeyDirectory(std::string dir);

    // Rescans the directory when the key is unknown and the directory has changed.
    std::optional<std::string> agent_for_key(const std::string& public_key) override;

    // Reads every DIR/*.pub now; logs files that are not valid keys.
    void reload();

  private:
    const std::string dir_;
    std::map<std::string, std::string> name_by_key_;
    bool directory_changed() const;

    timespec seen_mtime_{};
};

}  // namespace hostline::controller
