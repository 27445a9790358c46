// A rollout's window as people write it: "2" hosts at a time, or "25%" of the matched hosts
// (docs/scheduling.md, "Batches"). Read by the chat grammar, the HTTP API and the CLI alike, so
// `--batch half` is refused with the same words wherever it is typed.
//
// Pure functions, safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline {

struct BatchSize {
    unsigned size = 0;
    bool percent = false;  // size is a percentage of the matched hosts (1..100)
};

// "2" or "25%": at least one host, or 1% to 100% of them. No signs, spaces or fractions.
// Errors name the input: "--batch 'half' is not a batch size: ...", "--batch must be at
// least 1 (or 1%)", "--batch 150% is more than 100%".
Result<BatchSize> parse_batch_size(std::string_view text);

// What parse_batch_size reads back: "2", "25%".
std::string to_string(BatchSize batch);

// How many runs may be in flight at once for `hosts` hosts: size, or size% of hosts rounded
// up; never below 1, never above hosts (unless hosts is 0).
std::size_t window_for(BatchSize batch, std::size_t hosts);

}  // namespace hostline
