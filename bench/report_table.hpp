// The one table `make bench` ends with: every scenario's figure beside its baseline measured in
// the same run, their ratio, and for the rows an issue sets a target for, whether it was met.
#pragma once

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace hostline::bench {

struct ReportRow {
    std::string scenario;
    double measured_ms = 0;
    double baseline_ms = 0;
    // The largest measured/baseline ratio an issue accepts for this row; 0: no target, the
    // row is context (a p50 beside its p99, or a request that does not compare like for like).
    double target_ratio = 0;
    // What measured and baseline count: "ms" unless said (a CPU share "%", a size "MB"
    // whose baseline is then the target itself, "" for a count against a count).
    std::string unit = "ms";
};

// The p-th percentile (0..1) of values, the nearest sample by rank; NaN for none.
inline double percentile(std::vector<double> values, double p) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    std::size_t index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

inline void print_table(const std::vector<ReportRow>& rows) {
    int width = 52;
    for (const ReportRow& row : rows)
        width = std::max(width, static_cast<int>(row.scenario.size()));
    std::printf("\n%-*s %13s %13s %9s  %s\n", width, "scenario", "measured", "baseline", "ratio",
                "target");
    int targets = 0, met = 0;
    std::string missed;
    for (const ReportRow& row : rows) {
        const double ratio = row.measured_ms / row.baseline_ms;
        std::string verdict;
        if (row.target_ratio > 0) {
            ++targets;
            // A NaN ratio (no samples) is not a target met.
            const bool ok = ratio <= row.target_ratio;
            met += ok;
            if (!ok) missed += "\n  " + row.scenario;
            char text[48];
            std::snprintf(text, sizeof text, "<= %gx %s", row.target_ratio, ok ? "met" : "MISSED");
            verdict = text;
        }
        std::printf("%-*s %10.2f %-2s %10.2f %-2s %8.2fx%s%s\n", width, row.scenario.c_str(),
                    row.measured_ms, row.unit.c_str(), row.baseline_ms, row.unit.c_str(), ratio,
                    verdict.empty() ? "" : "  ", verdict.c_str());
    }
    if (targets > 0)
        std::printf("\ntargets met: %d of %d%s%s\n", met, targets,
                    missed.empty() ? "" : "; missed:", missed.c_str());
}

}  // namespace hostline::bench
