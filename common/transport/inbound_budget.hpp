// How much inbound work the agent transport may have handed on that is not finished yet.
//
// The transport thread takes a ticket for every message it hands on (take()); whoever finishes
// the message drops the ticket, on any thread. When `messages` tickets or `bytes` of frames are
// out, open() says no: the transport thread stops reading its socket, so ZeroMQ's receive
// high-water mark and then TCP push back on the agents instead of the controller's memory
// growing. It reads again once the consumer has caught up to half of both limits; the ticket
// that gets it there makes resume_fd() readable, so the transport thread sleeps in poll() until
// then instead of spinning.
//
// Threads: open(), take() and resume_fd() belong to the transport thread; tickets may be
// dropped anywhere. Tickets share ownership of the budget, so one may outlive the transport.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "common/error.hpp"

namespace hostline::transport {

class InboundBudget;

// One message handed on; dropping it (destruction or release()) says the message is finished.
// Move-only.
class InboundTicket {
  public:
    InboundTicket() = default;
    InboundTicket(InboundTicket&& other) noexcept;
    InboundTicket& operator=(InboundTicket&& other) noexcept;
    InboundTicket(const InboundTicket&) = delete;
    InboundTicket& operator=(const InboundTicket&) = delete;
    ~InboundTicket() { release(); }

    void release();

  private:
    friend class InboundBudget;
    InboundTicket(std::shared_ptr<InboundBudget> budget, std::size_t bytes)
        : budget_(std::move(budget)), bytes_(bytes) {}

    std::shared_ptr<InboundBudget> budget_;
    std::size_t bytes_ = 0;
};

class InboundBudget : public std::enable_shared_from_this<InboundBudget> {
  public:
    struct Limits {
        std::size_t messages = 10'000;
        std::size_t bytes = 64 * 1024 * 1024;
    };

    // Error: no eventfd (out of file descriptors).
    static Result<std::shared_ptr<InboundBudget>> create(Limits limits);
    ~InboundBudget();
    InboundBudget(const InboundBudget&) = delete;
    InboundBudget& operator=(const InboundBudget&) = delete;

    // Whether the transport may read another message now.
    bool open();
    // A ticket for a message of `bytes` handed on now. Always granted: the transport asks
    // open() first, so it overshoots by at most one message.
    InboundTicket take(std::size_t bytes);
    // Readable after the tickets dropped have brought the work down to where reading resumes;
    // the transport thread reads it empty when poll() says so (drain_resume_fd()).
    int resume_fd() const { return resume_fd_; }
    void drain_resume_fd();

    std::size_t outstanding_messages() const { return messages_.load(); }

  private:
    friend class InboundTicket;
    InboundBudget(Limits limits, int resume_fd);
    void give_back(std::size_t bytes);

    // Constant after construction.
    const Limits limits_;
    const int resume_fd_;

    std::atomic<std::size_t> messages_{0};
    std::atomic<std::size_t> bytes_{0};
    bool paused_ = false;  // transport thread only
};

}  // namespace hostline::transport
