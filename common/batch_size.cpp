#include "common/batch_size.hpp"

#include <algorithm>
#include <charconv>

namespace hostline {
namespace {

// How much of a word an error quotes back (the chat grammar's limit too).
constexpr std::size_t kMaxQuoted = 40;

std::string quoted(std::string_view word) {
    if (word.size() <= kMaxQuoted) return "'" + std::string(word) + "'";
    std::size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) --cut;
    return "'" + std::string(word.substr(0, cut)) + "...'";
}

}  // namespace

Result<BatchSize> parse_batch_size(std::string_view text) {
    BatchSize batch;
    std::string_view digits = text;
    if (digits.ends_with('%')) {
        batch.percent = true;
        digits.remove_suffix(1);
    }
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), batch.size);
    if (digits.empty() || digits.front() < '0' || digits.front() > '9' || ec != std::errc{} ||
        end != digits.data() + digits.size()) {
        return fail("--batch " + quoted(text) +
                    " is not a batch size: give a number of hosts (--batch 2) or a percentage "
                    "(--batch 25%)");
    }
    if (batch.size == 0) return fail("--batch must be at least 1 (or 1%)");
    if (batch.percent && batch.size > 100) {
        return fail("--batch " + std::string(text) + " is more than 100%");
    }
    return batch;
}

std::string to_string(BatchSize batch) {
    return std::to_string(batch.size) + (batch.percent ? "%" : "");
}

std::size_t window_for(BatchSize batch, std::size_t hosts) {
    std::size_t window = batch.size;
    if (batch.percent) window = (hosts * batch.size + 99) / 100;  // rounded up
    if (hosts > 0) window = std::min(window, hosts);
    return std::max<std::size_t>(window, 1);
}

}  // namespace hostline
