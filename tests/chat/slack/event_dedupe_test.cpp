#include "chat/slack/event_dedupe.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostline::chat::slack {
namespace {

TEST(SlackEventDedupe, ARedeliveredEventIsSeenOnce) {
    EventDedupe dedupe;
    EXPECT_TRUE(dedupe.first_time("Ev111"));
    EXPECT_FALSE(dedupe.first_time("Ev111"));
    EXPECT_TRUE(dedupe.first_time("Ev222"));
    EXPECT_FALSE(dedupe.first_time("Ev111"));
}

TEST(SlackEventDedupe, HoldsAtMostItsCapacityForgettingTheOldestFirst) {
    EventDedupe dedupe(3);
    for (const char* id : {"a", "b", "c", "d"}) EXPECT_TRUE(dedupe.first_time(id));
    EXPECT_EQ(dedupe.size(), 3u);
    EXPECT_FALSE(dedupe.first_time("d"));
    EXPECT_FALSE(dedupe.first_time("b"));
    EXPECT_TRUE(dedupe.first_time("a"));  // forgotten, so new again
}

TEST(SlackEventDedupe, DefaultCapacityIsTenThousandAndStaysBounded) {
    EventDedupe dedupe;
    for (int i = 0; i < 25'000; ++i) ASSERT_TRUE(dedupe.first_time("Ev" + std::to_string(i)));
    EXPECT_EQ(dedupe.size(), EventDedupe::kDefaultCapacity);
    EXPECT_FALSE(dedupe.first_time("Ev24999"));
    EXPECT_FALSE(dedupe.first_time("Ev15000"));  // the oldest still remembered
    EXPECT_TRUE(dedupe.first_time("Ev14999"));
}

TEST(SlackEventDedupe, EmptyIdsCannotBeToldApart) {
    EventDedupe dedupe(2);
    EXPECT_TRUE(dedupe.first_time(""));
    EXPECT_TRUE(dedupe.first_time(""));
    EXPECT_EQ(dedupe.size(), 0u);
}

}  // namespace
}  // namespace hostline::chat::slack
