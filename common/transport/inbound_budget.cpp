#include "common/transport/inbound_budget.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace hostline::transport {

InboundTicket::InboundTicket(InboundTicket&& other) noexcept
    : budget_(std::move(other.budget_)), bytes_(other.bytes_) {}

InboundTicket& InboundTicket::operator=(InboundTicket&& other) noexcept {
    if (this != &other) {
        release();
        budget_ = std::move(other.budget_);
        bytes_ = other.bytes_;
    }
    return *this;
}

void InboundTicket::release() {
    if (!budget_) return;
    budget_->give_back(bytes_);
    budget_.reset();
}

Result<std::shared_ptr<InboundBudget>> InboundBudget::create(Limits limits) {
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return fail(std::string("eventfd failed: ") + std::strerror(errno));
    // A limit of 0 would never let a message through.
    limits.messages = std::max<std::size_t>(limits.messages, 1);
    limits.bytes = std::max<std::size_t>(limits.bytes, 1);
    return std::shared_ptr<InboundBudget>(new InboundBudget(limits, fd));
}

InboundBudget::InboundBudget(Limits limits, int resume_fd)
    : limits_(limits), resume_fd_(resume_fd) {}

InboundBudget::~InboundBudget() {
    ::close(resume_fd_);
}

bool InboundBudget::open() {
    const std::size_t messages = messages_.load();
    const std::size_t bytes = bytes_.load();
    if (paused_)
        paused_ = messages > limits_.messages / 2 || bytes > limits_.bytes / 2;
    else
        paused_ = messages >= limits_.messages || bytes >= limits_.bytes;
    return !paused_;
}

InboundTicket InboundBudget::take(std::size_t bytes) {
    messages_.fetch_add(1);
    bytes_.fetch_add(bytes);
    return InboundTicket(shared_from_this(), bytes);
}

void InboundBudget::give_back(std::size_t bytes) {
    // Bytes first: whoever wakes on the ring below sees both counts already lowered.
    const std::size_t bytes_before = bytes_.fetch_sub(bytes);
    const std::size_t messages_before = messages_.fetch_sub(1);
    const std::size_t bytes_level = limits_.bytes / 2, messages_level = limits_.messages / 2;
    const bool crossed =
        (bytes_before > bytes_level && bytes_before - bytes <= bytes_level) ||
        (messages_before > messages_level && messages_before - 1 <= messages_level);
    if (crossed) {
        std::uint64_t one = 1;
        (void)::write(resume_fd_, &one, sizeof one);
    }
}

void InboundBudget::drain_resume_fd() {
    std::uint64_t count;
    (void)::read(resume_fd_, &count, sizeof count);
}

}  // namespace hostline::transport
