#include "controller/metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hostline::controller::metrics {

namespace {

// Prometheus floats: +Inf, -Inf and NaN spelled its way.
void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[64];
    // Shortest round-trip digits in %g style, as Prometheus' own clients write them
    // ("0.0001", not "1e-04").
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::general);
    out.append(buffer, ec == std::errc() ? end : buffer);
}

void append_number(std::string& out, std::uint64_t v) {
    out += std::to_string(v);
}

// HELP text escapes \ and newline (not quotes).
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void append_labels(std::string& out, const Labels& labels, std::string_view le = {}) {
    if (labels.empty() && le.empty()) return;
    out += '{';
    bool first = true;
    for (const auto& [name, value] : labels) {
        if (!first) out += ',';
        first = false;
        out += name;
        out += "=\"";
        out += escape_label_value(value);
        out += '"';
    }
    if (!le.empty()) {
        if (!first) out += ',';
        out += "le=\"";
        out += le;
        out += '"';
    }
    out += '}';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const Labels& labels, auto value, std::string_view le = {}) {
    out += name;
    out += suffix;
    append_labels(out, labels, le);
    out += ' ';
    append_number(out, value);
    out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
        std::fprintf(stderr, "metrics: histogram bounds must be strictly increasing\n");
        std::abort();
    }
}

void Histogram::observe(double v) {
    // The first bound >= v: buckets are "less than or equal".
    const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    buckets_[static_cast<std::size_t>(at)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        s.cumulative.push_back(running);
    }
    s.count = running;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
}

Registry::Child& Registry::child(std::string_view name, std::string_view help, Kind kind,
                                 Labels labels) {
    auto family = std::find_if(families_.begin(), families_.end(),
                               [&](const Family& f) { return f.name == name; });
    if (family == families_.end()) {
        families_.push_back(Family{std::string(name), std::string(help), kind, {}});
        family = families_.end() - 1;
    } else if (family->kind != kind) {
        std::fprintf(stderr, "metrics: %s registered as two kinds\n", family->name.c_str());
        std::abort();
    }
    for (auto& c : family->children)
        if (c.labels == labels) return c;
    family->children.push_back(Child{std::move(labels), nullptr, nullptr, nullptr});
    return family->children.back();
}

Counter& Registry::counter(std::string_view name, std::string_view help, Labels labels) {
    Child& c = child(name, help, Kind::counter, std::move(labels));
    if (!c.counter) c.counter = std::make_unique<Counter>();
    return *c.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, Labels labels) {
    Child& c = child(name, help, Kind::gauge, std::move(labels));
    if (!c.gauge) c.gauge = std::make_unique<Gauge>();
    return *c.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::vector<double> bounds, Labels labels) {
    Child& c = child(name, help, Kind::histogram, std::move(labels));
    if (!c.histogram) c.histogram = std::make_unique<Histogram>(std::move(bounds));
    return *c.histogram;
}

std::string Registry::expose() {
    for (const auto& collect : collectors_) collect();
    std::string out;
    for (const Family& f : families_) {
        out += "# HELP " + f.name + ' ' + escape_help(f.help) + '\n';
        out += "# TYPE " + f.name + ' ';
        out += f.kind == Kind::counter ? "counter" : f.kind == Kind::gauge ? "gauge" : "histogram";
        out += '\n';
        for (const Child& c : f.children) {
            if (c.counter) append_sample(out, f.name, "", c.labels, c.counter->value());
            if (c.gauge) append_sample(out, f.name, "", c.labels, c.gauge->value());
            if (!c.histogram) continue;
            const auto s = c.histogram->snapshot();
            const auto& bounds = c.histogram->bounds();
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                std::string le;
                append_number(le, bounds[i]);
                append_sample(out, f.name, "_bucket", c.labels, s.cumulative[i], le);
            }
            append_sample(out, f.name, "_bucket", c.labels, s.count, "+Inf");
            append_sample(out, f.name, "_sum", c.labels, s.sum);
            append_sample(out, f.name, "_count", c.labels, s.count);
        }
    }
    return out;
}

}  // namespace hostline::controller::metrics
