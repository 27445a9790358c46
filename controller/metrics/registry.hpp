// Counters, gauges and histograms with fixed label sets, and their Prometheus text
// exposition (format 0.0.4), for GET /metrics. Our own, small: no client library.
//
// Threads: the registry's structure (what is registered) is changed and read on the io
// thread only; a metric's value is an atomic, so any thread may update it (the store thread
// records its commits). Updating is a relaxed atomic operation: no lock, no string work.
// A caller resolves its children once (a reference per label set) and keeps them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostline::controller::metrics {

// A metric's labels, in the order they are shown: {{"state", "online"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Only goes up; starts at 0.
class Counter {
  public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down.
class Gauge {
  public:
    void set(double v) { value_.store(v, std::memory_order_relaxed); }
    double value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> value_{0};
};

// Observations counted into cumulative buckets with fixed upper bounds, plus their sum.
class Histogram {
  public:
    // bounds: the buckets' upper bounds (inclusive), strictly increasing, without +Inf.
    explicit Histogram(std::vector<double> bounds);

    void observe(double v);

    struct Snapshot {
        std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
        double sum = 0;
        std::uint64_t count = 0;
    };
    // Read on one thread while others observe: each figure is exact, together they may be
    // a few observations apart.
    Snapshot snapshot() const;
    const std::vector<double>& bounds() const { return bounds_; }

  private:
    const std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (the +Inf one)
    std::atomic<double> sum_{0};
};

class Registry {
  public:
    // Registers (or returns, for the same name and labels) a child of the family `name`.
    // Every child of a family must have the same kind; help is taken from the first call.
    // A second kind under one name is a programming error and aborts. References stay
    // valid for the registry's lifetime.
    Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                         Labels labels = {});

    // Runs before every exposition, on the io thread: for gauges that are read from their
    // owner at scrape time (agents online) rather than kept up to date.
    void on_collect(std::function<void()> collect) { collectors_.push_back(std::move(collect)); }

    // The text exposition format 0.0.4: families in registration order, each with # HELP
    // and # TYPE, children in registration order.
    std::string expose();

  private:
    enum class Kind { counter, gauge, histogram };
    struct Child {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
    };
    struct Family {
        std::string name;
        std::string help;
        Kind kind;
        std::vector<Child> children;
    };
    Child& child(std::string_view name, std::string_view help, Kind kind, Labels labels);

    std::vector<Family> families_;
    std::vector<std::function<void()>> collectors_;
};

// The text of a label value as exposed: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace hostline::controller::metrics
