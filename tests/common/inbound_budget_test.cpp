#include "common/transport/inbound_budget.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>
#include <vector>

namespace hostline::transport {
namespace {

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

std::shared_ptr<InboundBudget> budget(std::size_t messages, std::size_t bytes) {
    auto created = InboundBudget::create({messages, bytes});
    EXPECT_TRUE(created.ok());
    return *created;
}

TEST(InboundBudget, ClosesAtTheMessageLimitAndOpensAgainAtHalf) {
    auto b = budget(10, 1 << 20);
    std::vector<InboundTicket> out;
    while (b->open()) out.push_back(b->take(100));
    EXPECT_EQ(out.size(), 10u);
    EXPECT_EQ(b->outstanding_messages(), 10u);

    out.resize(6);  // four finished: still closed
    EXPECT_FALSE(b->open());
    EXPECT_FALSE(readable(b->resume_fd())) << "no wake-up before it may read again";
    out.resize(5);
    EXPECT_TRUE(readable(b->resume_fd())) << "the ticket that gets it to half wakes the reader";
    EXPECT_TRUE(b->open());
    b->drain_resume_fd();
    EXPECT_FALSE(readable(b->resume_fd()));
}

TEST(InboundBudget, ClosesAtTheByteLimitToo) {
    auto b = budget(1000, 10'000);
    std::vector<InboundTicket> out;
    while (b->open()) out.push_back(b->take(4000));
    EXPECT_EQ(out.size(), 3u)
        << "a message is let through below the limit, so it overshoots by one";
    out.pop_back();  // 8,000 bytes: over half
    EXPECT_FALSE(b->open());
    out.pop_back();  // 4,000 bytes
    EXPECT_TRUE(b->open());
}

TEST(InboundBudget, ATicketReleasesOnceWhetherMovedReleasedOrDestroyed) {
    auto b = budget(10, 1 << 20);
    {
        InboundTicket a = b->take(1);
        InboundTicket moved = std::move(a);
        a.release();  // moved from: nothing to give back
        EXPECT_EQ(b->outstanding_messages(), 1u);
        InboundTicket other = b->take(1);
        other = std::move(moved);  // other's own ticket is given back
        EXPECT_EQ(b->outstanding_messages(), 1u);
        other.release();
        other.release();
        EXPECT_EQ(b->outstanding_messages(), 0u);
        InboundTicket last = b->take(1);
    }
    EXPECT_EQ(b->outstanding_messages(), 0u);
}

TEST(InboundBudget, TicketsMayBeDroppedOnAnyThread) {
    auto b = budget(100'000, 1 << 30);
    std::vector<InboundTicket> out;
    for (int i = 0; i < 40'000; ++i) out.push_back(b->take(1));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&out, t] {
            for (std::size_t i = static_cast<std::size_t>(t); i < out.size(); i += 4)
                out[i].release();
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(b->outstanding_messages(), 0u);
}

}  // namespace
}  // namespace hostline::transport
