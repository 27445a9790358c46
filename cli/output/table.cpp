#include "cli/output/table.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "cli/output/format.hpp"

namespace hostline::cli {

namespace {

constexpr std::size_t kGap = 2;

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
    cells.resize(headers_.size());
    rows_.push_back(std::move(cells));
}

void Table::set_shrinkable(std::size_t column, std::size_t min_width) {
    shrinkable_ = column;
    min_width_ = min_width;
}

std::string Table::render(std::size_t max_width) const {
    const std::size_t columns = headers_.size();
    std::vector<std::size_t> widths(columns);
    for (std::size_t c = 0; c < columns; ++c) {
        widths[c] = display_width(headers_[c]);
        for (const auto& row : rows_) widths[c] = std::max(widths[c], display_width(row[c]));
    }

    if (max_width > 0 && shrinkable_ < columns) {
        std::size_t total = 0;
        for (std::size_t c = 0; c < columns; ++c) total += widths[c] + (c > 0 ? kGap : 0);
        if (total > max_width) {
            const std::size_t excess = total - max_width;
            const std::size_t floor = std::max(min_width_, display_width(headers_[shrinkable_]));
            std::size_t& width = widths[shrinkable_];
            width = width > floor + excess ? width - excess : std::min(width, floor);
        }
    }

    std::string text;
    auto add_line = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t c = 0; c < columns; ++c) {
            if (c > 0) line.append(kGap, ' ');
            std::string cell = truncate_to_width(cells[c], widths[c]);
            const std::size_t shown = display_width(cell);
            line += cell;
            if (c + 1 < columns) line.append(widths[c] - shown, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        text += line;
        text += '\n';
    };
    add_line(headers_);
    for (const auto& row : rows_) add_line(row);
    return text;
}

std::size_t terminal_columns(int fd) {
    winsize size{};
    if (isatty(fd) == 1 && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    if (const char* env = std::getenv("COLUMNS")) {
        std::size_t columns = 0;
        std::string_view text(env);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), columns);
        if (ec == std::errc() && end == text.data() + text.size()) return columns;
    }
    return 0;
}

}  // namespace hostline::cli
