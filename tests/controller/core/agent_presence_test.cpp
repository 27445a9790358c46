// Heartbeats answered on the transport thread and collected by the scheduler.
#include "controller/scheduler/agent_presence.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;
using Clock = AgentPresence::Clock;

TEST(AgentPresence, OnlyAgentsInSessionAreAnsweredAndEachIsCollectedOnceWithItsLastTime) {
    AgentPresence presence("reply");
    const auto t0 = Clock::now();
    EXPECT_FALSE(presence.answer("web-01", t0).has_value()) << "no hello yet";
    presence.open("web-01");
    presence.open("web-02");
    EXPECT_EQ(presence.answer("web-01", t0), "reply");
    EXPECT_EQ(presence.answer("web-01", t0 + 1s), "reply");
    auto heard = presence.take_heard();
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].first, "web-01");
    EXPECT_EQ(heard[0].second, t0 + 1s);
    EXPECT_TRUE(presence.take_heard().empty()) << "collected already";

    presence.close("web-02");
    EXPECT_FALSE(presence.answer("web-02", t0).has_value()) << "offline: handed on";
    presence.answer("web-01", t0 + 2s);
    presence.close("web-01");  // heard, then went offline before the tick: not collected
    EXPECT_TRUE(presence.take_heard().empty());
    presence.open("web-01");
    EXPECT_TRUE(presence.take_heard().empty()) << "a new session starts unheard";
}

TEST(AgentPresence, TheTransportAndTheSchedulerMayCallAtOnce) {
    AgentPresence presence("reply");
    for (int i = 0; i < 100; ++i) presence.open("agent-" + std::to_string(i));
    std::size_t answered = 0;
    std::thread transport([&] {
        for (int round = 0; round < 200; ++round)
            for (int i = 0; i < 100; ++i)
                if (presence.answer("agent-" + std::to_string(i), Clock::now())) ++answered;
    });
    std::size_t collected = 0;
    for (int round = 0; round < 200; ++round) collected += presence.take_heard().size();
    transport.join();
    collected += presence.take_heard().size();
    EXPECT_EQ(answered, 20000u);
    EXPECT_GE(collected, 100u);
    EXPECT_LE(collected, 20000u);
}

}  // namespace
}  // namespace hostline::controller
