// The exposition text Prometheus reads, checked byte for byte, and histogram bucketing.

#include "controller/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

namespace hostline::controller::metrics {
namespace {

TEST(MetricsRegistry, CounterIsExposedWithHelpAndType) {
    Registry registry;
    Counter& c = registry.counter("hostline_things_total", "Things seen.");
    c.inc();
    c.inc(4);
    EXPECT_EQ(registry.expose(),
              "# HELP hostline_things_total Things seen.\n"
              "# TYPE hostline_things_total counter\n"
              "hostline_things_total 5\n");
}

TEST(MetricsRegistry, LabelledGaugeChildrenShareOneFamilyInRegistrationOrder) {
    Registry registry;
    Gauge& online = registry.gauge("hostline_agents", "Agents by state.", {{"state", "online"}});
    Gauge& offline = registry.gauge("hostline_agents", "ignored", {{"state", "offline"}});
    online.set(2);
    offline.set(0.5);
    // The same name and labels is the same child.
    EXPECT_EQ(&registry.gauge("hostline_agents", "", {{"state", "online"}}), &online);
    EXPECT_EQ(registry.expose(),
              "# HELP hostline_agents Agents by state.\n"
              "# TYPE hostline_agents gauge\n"
              "hostline_agents{state=\"online\"} 2\n"
              "hostline_agents{state=\"offline\"} 0.5\n");
}

TEST(MetricsRegistry, HistogramHasCumulativeBucketsInfSumAndCount) {
    Registry registry;
    Histogram& h =
        registry.histogram("hostline_wait_seconds", "Waits.", {0.1, 1, 2.5}, {{"kind", "a"}});
    h.observe(0.05);
    h.observe(0.1);  // a bound is "less than or equal"
    h.observe(2);
    h.observe(30);
    EXPECT_EQ(registry.expose(),
              "# HELP hostline_wait_seconds Waits.\n"
              "# TYPE hostline_wait_seconds histogram\n"
              "hostline_wait_seconds_bucket{kind=\"a\",le=\"0.1\"} 2\n"
              "hostline_wait_seconds_bucket{kind=\"a\",le=\"1\"} 2\n"
              "hostline_wait_seconds_bucket{kind=\"a\",le=\"2.5\"} 3\n"
              "hostline_wait_seconds_bucket{kind=\"a\",le=\"+Inf\"} 4\n"
              "hostline_wait_seconds_sum{kind=\"a\"} 32.15\n"
              "hostline_wait_seconds_count{kind=\"a\"} 4\n");
}

TEST(MetricsRegistry, UnlabelledHistogramHasOnlyLeLabels) {
    Registry registry;
    registry.histogram("h", "H.", {1}).observe(3);
    EXPECT_EQ(registry.expose(),
              "# HELP h H.\n"
              "# TYPE h histogram\n"
              "h_bucket{le=\"1\"} 0\n"
              "h_bucket{le=\"+Inf\"} 1\n"
              "h_sum 3\n"
              "h_count 1\n");
}

TEST(MetricsRegistry, LabelValuesEscapeBackslashQuoteAndNewline) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    Registry registry;
    registry.counter("c_total", "Help with \\ and\nnewline.", {{"adapter", "x\"y"}}).inc();
    EXPECT_EQ(registry.expose(),
              "# HELP c_total Help with \\\\ and\\nnewline.\n"
              "# TYPE c_total counter\n"
              "c_total{adapter=\"x\\\"y\"} 1\n");
}

TEST(MetricsRegistry, CollectorsRunBeforeEveryExposition) {
    Registry registry;
    Gauge& g = registry.gauge("g", "G.");
    int scrapes = 0;
    registry.on_collect([&] { g.set(++scrapes); });
    EXPECT_NE(registry.expose().find("\ng 1\n"), std::string::npos);
    EXPECT_NE(registry.expose().find("\ng 2\n"), std::string::npos);
}

TEST(MetricsHistogram, BucketsAreCumulativeAndCountEqualsInf) {
    Histogram h({1, 2, 4});
    for (double v : {0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5, -1.0}) h.observe(v);
    const auto s = h.snapshot();
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{3, 5, 7, 8}));
    EXPECT_EQ(s.count, 8U);
    EXPECT_DOUBLE_EQ(s.sum, 15.0);
}

TEST(MetricsHistogram, ObservationsFromManyThreadsAreAllCounted) {
    Histogram h({0.5});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) h.observe(i % 2 == 0 ? 0.25 : 1.0);
        });
    for (auto& t : threads) t.join();
    const auto s = h.snapshot();
    EXPECT_EQ(s.cumulative[0], 20000U);
    EXPECT_EQ(s.count, 40000U);
    EXPECT_DOUBLE_EQ(s.sum, 20000 * 0.25 + 20000 * 1.0);
}

TEST(MetricsRegistry, SmallBoundsAreWrittenWithoutAnExponent) {
    Registry registry;
    registry.histogram("c", "C.", {0.0001, 0.00025});
    const std::string text = registry.expose();
    EXPECT_NE(text.find("c_bucket{le=\"0.0001\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("c_bucket{le=\"0.00025\"} 0\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, SpecialValuesAreSpelledThePrometheusWay) {
    Registry registry;
    registry.gauge("inf", "I.").set(INFINITY);
    registry.gauge("nan", "N.").set(NAN);
    const std::string text = registry.expose();
    EXPECT_NE(text.find("\ninf +Inf\n"), std::string::npos) << text;
    EXPECT_NE(text.find("\nnan NaN\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace hostline::controller::metrics
