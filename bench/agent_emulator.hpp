// Many agent identities in one process, for benchmarks at fleet scale (bench/scale_bench.hpp):
// each identity has its own CURVE key pair and its own DEALER socket to the controller and
// speaks the real protocol (docs/protocol.md, common/proto) - hello with labels and capacity,
// heartbeats at the pace the welcome names, run -> run_ack, output chunks and a result with
// exit 0 after a set duration, acks honoured with the agent's window of 64 messages - but
// spawns nothing, keeps no spool and never resends: a benchmark on loopback loses nothing, and
// a run that never ends shows as a job that does not finish.
//
// Beside each identity's controller socket there may be a second DEALER (same key, routing id
// = the identity's name) to a bare ROUTER: it says "ready" once and echoes every frame it gets,
// the baseline a job to every identity is measured against.
//
// Not a product feature. run() owns every socket and must be called from one thread; stop()
// may be called from any thread or a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/proto/messages.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::bench {

struct EmulatedIdentity {
    std::string name;
    transport::CurveKeyPair keys;
};

struct EmulatorOptions {
    std::string controller_endpoint;
    std::string controller_key;  // the controller's CURVE public key
    // A bare ROUTER to echo to (empty: none), and its CURVE public key.
    std::string echo_endpoint;
    std::string echo_key;
    std::vector<EmulatedIdentity> identities;
    proto::Labels labels;
    std::uint32_t capacity = 4;
    // Each run's stdout, in chunks of chunk_bytes (at most proto::kMaxChunkBytes).
    std::uint64_t output_bytes = 0;
    std::size_t chunk_bytes = proto::kMaxChunkBytes;
    // From run_ack to the first output chunk.
    std::chrono::milliseconds run_duration{0};
    int io_threads = 2;
    // ZeroMQ's own heartbeat (ZMTP PING) on the controller socket; 0: none, as the real
    // agent since it dropped them (docs/performance.md, "Output and agent footprint").
    int zmtp_heartbeat_ms = 0;
    // Identities connecting and not yet welcomed at once: the next connects when one is
    // welcomed, so the fleet comes up at the pace the controller takes it (10,000 CURVE
    // handshakes at once outlast the 10 s handshake limit on a small machine, and retry).
    // 0: all at once, a controller restart's reconnect storm.
    std::size_t connect_window = 200;
};

// What the emulated agents have seen so far; read from any thread.
struct EmulatorCounts {
    std::atomic<std::uint64_t> welcomed{0};       // identities with a session
    std::atomic<std::uint64_t> runs{0};           // runs received (repeats not counted)
    std::atomic<std::uint64_t> runs_acked{0};     // runs whose result the controller acked
    std::atomic<std::uint64_t> acks{0};           // ack messages received
    std::atomic<std::uint64_t> echoes{0};         // frames echoed to the bare ROUTER
    std::atomic<std::uint64_t> errors{0};         // error messages from the controller
    std::atomic<std::uint64_t> send_failures{0};  // frames ZeroMQ would not take
};

class AgentEmulator {
  public:
    explicit AgentEmulator(EmulatorOptions options);
    ~AgentEmulator();
    AgentEmulator(const AgentEmulator&) = delete;
    AgentEmulator& operator=(const AgentEmulator&) = delete;

    // Connects every identity and serves them until stop(). Errors: a socket ZeroMQ refuses
    // (too many open files, most likely: each identity takes 2 descriptors per socket).
    Result<void> run();
    // Makes run() return; async-signal-safe.
    void stop();
    const EmulatorCounts& counts() const { return counts_; }

  private:
    struct Loop;
    EmulatorOptions options_;
    EmulatorCounts counts_;
    int wake_fd_ = -1;  // an eventfd: stop() writes it
};

}  // namespace hostline::bench
