#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "chat/slack/edit_throttle.hpp"
#include "chat/slack/retry_after_gate.hpp"

namespace hostline::chat::slack {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
const Clock::time_point t0{};

TEST(SlackRetryAfterGate, NothingIsSentBeforeRetryAfterHasPassed) {
    RetryAfterGate gate;
    EXPECT_EQ(gate.wait_before("chat.update", t0), Clock::duration::zero());
    gate.on_rate_limited("chat.update", 30s, t0);
    EXPECT_EQ(gate.wait_before("chat.update", t0), 30s);
    EXPECT_EQ(gate.wait_before("chat.update", t0 + 29s + 999ms), 1ms);
    EXPECT_EQ(gate.wait_before("chat.update", t0 + 30s), Clock::duration::zero());
}

TEST(SlackRetryAfterGate, OneMethodsLimitDoesNotHoldAnother) {
    RetryAfterGate gate;
    gate.on_rate_limited("chat.update", 30s, t0);
    EXPECT_EQ(gate.wait_before("chat.postMessage", t0), Clock::duration::zero());
    EXPECT_EQ(gate.wait_before("reactions.add", t0), Clock::duration::zero());
}

TEST(SlackRetryAfterGate, ALaterShorterRetryAfterDoesNotShortenTheWait) {
    RetryAfterGate gate;
    gate.on_rate_limited("chat.postMessage", 60s, t0);
    gate.on_rate_limited("chat.postMessage", 1s, t0 + 10s);
    EXPECT_EQ(gate.wait_before("chat.postMessage", t0 + 10s), 50s);
    gate.on_rate_limited("chat.postMessage", 120s, t0 + 10s);
    EXPECT_EQ(gate.wait_before("chat.postMessage", t0 + 10s), 120s);
}

TEST(SlackRetryAfterGate, AnAbsurdRetryAfterIsCapped) {
    RetryAfterGate gate;
    gate.on_rate_limited("chat.update", std::chrono::seconds(999'999'999), t0);
    EXPECT_EQ(gate.wait_before("chat.update", t0), RetryAfterGate::kLongestWait);
}

// A 429 storm: a fake Slack answers every request to chat.postMessage with 429 Retry-After: 2
// until t0+10s. A sender that asks the gate before each request sends none early and, once
// the storm is over, every message it was given.
TEST(SlackRetryAfterGate, StormNoRequestEarlyAndNothingLost) {
    RetryAfterGate gate;
    std::deque<std::string> queue;
    for (int i = 0; i < 20; ++i) queue.push_back("message " + std::to_string(i));
    std::vector<std::string> delivered;
    Clock::time_point allowed_from = t0;
    int requests = 0;
    for (auto now = t0; now < t0 + 60s && !queue.empty(); now += 100ms) {
        while (!queue.empty() &&
               gate.wait_before("chat.postMessage", now) == Clock::duration::zero()) {
            ASSERT_GE(now, allowed_from) << "a request before Retry-After elapsed";
            ++requests;
            if (now < t0 + 10s) {
                gate.on_rate_limited("chat.postMessage", 2s, now);
                allowed_from = now + 2s;
                break;  // not delivered: stays queued
            }
            delivered.push_back(queue.front());
            queue.pop_front();
        }
    }
    ASSERT_EQ(delivered.size(), 20u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(delivered[i], "message " + std::to_string(i));
    EXPECT_LE(requests, 20 + 6);  // one refused try per 2 s of the storm, no hammering
}

const PostedMessage kMessage{"C111", "1.2"};
const PostedMessage kOther{"C111", "3.4"};

TEST(SlackEditThrottle, FirstEditGoesAtOnce) {
    EditThrottle throttle;
    EXPECT_EQ(throttle.offer(kMessage, "10%", t0), "10%");
    EXPECT_EQ(throttle.next_due(), std::nullopt);
}

TEST(SlackEditThrottle, EditsWithinTheSecondAreCoalescedToTheLatest) {
    EditThrottle throttle;
    ASSERT_TRUE(throttle.offer(kMessage, "10%", t0));
    EXPECT_EQ(throttle.offer(kMessage, "20%", t0 + 100ms), std::nullopt);
    EXPECT_EQ(throttle.offer(kMessage, "30%", t0 + 500ms), std::nullopt);
    EXPECT_EQ(throttle.next_due(), t0 + 1s);
    EXPECT_TRUE(throttle.take_due(t0 + 999ms).empty());
    const auto due = throttle.take_due(t0 + 1s);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].message.channel, "C111");
    EXPECT_EQ(due[0].message.message_id, "1.2");
    EXPECT_EQ(due[0].text, "30%");
    EXPECT_EQ(throttle.next_due(), std::nullopt);
}

TEST(SlackEditThrottle, MessagesAreThrottledSeparately) {
    EditThrottle throttle;
    ASSERT_TRUE(throttle.offer(kMessage, "a1", t0));
    EXPECT_EQ(throttle.offer(kOther, "b1", t0 + 10ms), "b1");
    EXPECT_FALSE(throttle.offer(kOther, "b2", t0 + 20ms));
    EXPECT_EQ(throttle.next_due(), t0 + 10ms + 1s);
}

TEST(SlackEditThrottle, NoTwoEditsOfAMessageWithinTheIntervalAndTheLastIsNeverLost) {
    EditThrottle throttle;
    std::vector<std::pair<Clock::time_point, std::string>> sent;
    std::string last_offered;
    auto now = t0;
    for (int i = 0; i < 500; ++i, now += 37ms) {
        for (auto& edit : throttle.take_due(now)) sent.emplace_back(now, edit.text);
        last_offered = "progress " + std::to_string(i);
        if (auto text = throttle.offer(kMessage, last_offered, now)) sent.emplace_back(now, *text);
    }
    // The run ends; the adapter's timer fires at next_due.
    while (const auto due = throttle.next_due()) {
        for (auto& edit : throttle.take_due(*due)) sent.emplace_back(*due, edit.text);
    }
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent.back().second, last_offered);
    for (std::size_t i = 1; i < sent.size(); ++i) {
        EXPECT_GE(sent[i].first - sent[i - 1].first, 1s) << "edit " << i;
    }
    EXPECT_LE(sent.size(), 20u);  // 500 edits over 18.5 s became about one a second
}

TEST(SlackEditThrottle, CustomIntervalAndForgettingQuietMessages) {
    EditThrottle throttle(2s);
    ASSERT_TRUE(throttle.offer(kMessage, "a", t0));
    EXPECT_FALSE(throttle.offer(kMessage, "b", t0 + 1500ms));
    EXPECT_EQ(throttle.next_due(), t0 + 2s);
    ASSERT_EQ(throttle.take_due(t0 + 2s).size(), 1u);
    EXPECT_EQ(throttle.tracked(), 1u);
    EXPECT_TRUE(throttle.take_due(t0 + 4s).empty());
    EXPECT_EQ(throttle.tracked(), 0u);
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(throttle.offer(PostedMessage{"C1", std::to_string(i)}, "x", t0 + 10s * i));
    }
    EXPECT_LE(throttle.tracked(), 1u);  // each message edited once and left alone is forgotten
}

}  // namespace
}  // namespace hostline::chat::slack
