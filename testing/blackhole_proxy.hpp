// A TCP proxy on 127.0.0.1 that can cut a link without closing it, as a network partition
// does: peers see silence, never a FIN or RST, until their own timeouts notice. Used to put
// an agent behind a partition from its controller (tests/faults).
//
// It runs its own thread (poll(2) over its sockets); the public methods may be called from
// any one other thread. Failures to start throw std::runtime_error (test support code).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace hostline::testing {

class BlackholeProxy {
  public:
    // Listens on a free port of 127.0.0.1 and forwards each connection to
    // 127.0.0.1:target_port (connecting when the client connects; a refused connect closes
    // the client).
    explicit BlackholeProxy(int target_port);
    ~BlackholeProxy();  // closes every connection and the listener
    BlackholeProxy(const BlackholeProxy&) = delete;
    BlackholeProxy& operator=(const BlackholeProxy&) = delete;

    int port() const { return port_; }

    // From now on nothing is forwarded in either direction: what arrives is read and
    // discarded, what was buffered for sending is discarded, and new connections are
    // accepted and treated the same way (never connected onward). Returns once the proxy
    // thread has switched, so nothing crosses after it returns.
    void partition();
    // Closes every connection that was blackholed (their peers reconnect) and forwards new
    // connections again. Returns once the proxy thread has done so.
    void heal();

    struct Counts {
        std::uint64_t forwarded_bytes = 0;  // both directions
        std::uint64_t dropped_bytes = 0;    // read while partitioned, or buffered when it began
        std::uint64_t connections = 0;      // accepted
    };
    Counts counts() const;

  private:
    class Loop;

    void change_mode(bool partitioned);

    // Constant after construction.
    int port_ = 0;
    int wake_fd_ = -1;  // eventfd: a mode change or stop for the loop

    // Guarded by mutex_: the mode asked for, and the mode the loop has applied.
    mutable std::mutex mutex_;
    std::condition_variable applied_cv_;
    bool want_partitioned_ = false;
    bool applied_partitioned_ = false;
    bool stopping_ = false;

    std::atomic<std::uint64_t> forwarded_{0};
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> connections_{0};

    std::thread thread_;
};

}  // namespace hostline::testing
