// The baseline of the fleet-scale scenario: a bare ZeroMQ ROUTER (CURVE on) that the emulated
// agents' echo DEALERs connect to (bench/agent_emulator.hpp). One round sends one request to
// every identity and waits for every reply: what a request/reply to the whole fleet costs
// with nothing of Hostline in between.
//
// One thread only; failures throw std::runtime_error (benchmark support code).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/transport/curve_keys.hpp"

namespace hostline::bench {

class EchoRouter {
  public:
    EchoRouter();  // binds 127.0.0.1 on a free port, with a key pair of its own
    ~EchoRouter();
    EchoRouter(const EchoRouter&) = delete;
    EchoRouter& operator=(const EchoRouter&) = delete;

    const std::string& endpoint() const { return endpoint_; }
    const std::string& public_key() const { return keys_.public_key; }

    // Waits until `count` identities have said "ready"; throws after timeout.
    void wait_ready(std::size_t count, std::chrono::milliseconds timeout);
    // One request to every ready identity, then every reply; returns the wall time in ms.
    // Throws if a reply does not come within timeout.
    double round(std::chrono::milliseconds timeout);

  private:
    void* context_ = nullptr;
    void* socket_ = nullptr;
    transport::CurveKeyPair keys_;
    std::string endpoint_;
    std::vector<std::string> identities_;
};

}  // namespace hostline::bench
