// HeldAcks: what the scheduler holds back of output acks, per agent and run.
#include "controller/scheduler/held_acks.hpp"

#include <gtest/gtest.h>

namespace hostline::controller {
namespace {

TEST(HeldAcks, EachRunIsAckedOnceUpToItsHighestSeqAndTakingEmptiesTheAgent) {
    HeldAcks held;
    EXPECT_FALSE(held.hold("a1", 7, 1, 10));
    EXPECT_FALSE(held.hold("a1", 7, 2, 10));
    EXPECT_FALSE(held.hold("a1", 8, 1, 10));
    EXPECT_FALSE(held.hold("a2", 9, 3, 10));
    const auto acks = held.take("a1");
    ASSERT_EQ(acks.size(), 2u);
    EXPECT_EQ(acks[0].run_id, 7u);
    EXPECT_EQ(acks[0].seq, 2u);
    EXPECT_EQ(acks[1].run_id, 8u);
    EXPECT_EQ(acks[1].seq, 1u);
    EXPECT_TRUE(held.take("a1").empty());
    EXPECT_FALSE(held.empty()) << "a2's is still held";
    const auto rest = held.take_all();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].first, "a2");
    EXPECT_EQ(rest[0].second.seq, 3u);
    EXPECT_TRUE(held.empty());
}

TEST(HeldAcks, ABatchIsAQuarterOfTheAgentsWindowInMessagesOrBytes) {
    HeldAcks held;
    for (std::size_t i = 1; i < HeldAcks::kBatchMessages; ++i)
        EXPECT_FALSE(held.hold("a1", i, 1, 1)) << i;
    EXPECT_TRUE(held.hold("a1", 99, 1, 1));
    held.take("a1");
    EXPECT_FALSE(held.hold("a1", 1, 1, HeldAcks::kBatchBytes - 1));
    EXPECT_TRUE(held.hold("a1", 1, 2, 1));
}

TEST(HeldAcks, AForgottenRunNoLongerCountsTowardsTheBatch) {
    HeldAcks held;
    for (std::uint64_t seq = 1; seq < HeldAcks::kBatchMessages; ++seq)
        EXPECT_FALSE(held.hold("a1", 5, seq, 1));
    held.forget("a1", 5);  // its result's ack covers them
    EXPECT_TRUE(held.empty());
    EXPECT_FALSE(held.hold("a1", 6, 1, 1)) << "one message held, not sixteen";
    held.forget("a1", 404);  // unknown: nothing
    held.forget("nobody", 6);
    EXPECT_EQ(held.take("a1").size(), 1u);
}

}  // namespace
}  // namespace hostline::controller
