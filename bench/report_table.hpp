// The one table `make bench` ends with: every scenario's figure beside its baseline measured in
// the same run, and their ratio.
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
};

// The p-th percentile (0..1) of values, the nearest sample by rank; NaN for none.
inline double percentile(std::vector<double> values, double p) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    std::size_t index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

inline void print_table(const std::vector<ReportRow>& rows) {
    std::printf("\n%-52s %13s %13s %9s\n", "scenario", "measured", "baseline", "ratio");
    for (const ReportRow& row : rows) {
        std::printf("%-52s %10.2f ms %10.2f ms %8.2fx\n", row.scenario.c_str(), row.measured_ms,
                    row.baseline_ms, row.measured_ms / row.baseline_ms);
    }
}

}  // namespace hostline::bench
