// Table: the left-aligned, space-separated tables every listing command prints.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hostline::cli {

class Table {
  public:
    explicit Table(std::vector<std::string> headers);

    // Cells beyond the headers are dropped; missing cells print as empty.
    void add_row(std::vector<std::string> cells);

    // Lets column shrink (down to min_width) when a line would be wider than the screen;
    // its cut cells end in "…". At most one column shrinks.
    void set_shrinkable(std::size_t column, std::size_t min_width);

    bool empty() const { return rows_.empty(); }

    // The header line and one line per row, each ending in '\n', columns two spaces
    // apart and the last column not padded. max_width 0 means no limit.
    std::string render(std::size_t max_width = 0) const;

  private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
    std::size_t shrinkable_ = static_cast<std::size_t>(-1);
    std::size_t min_width_ = 0;
};

// Columns of the terminal on fd, from the terminal itself or else $COLUMNS; 0 when fd is
// not a terminal and COLUMNS is unset (then tables do not shrink).
std::size_t terminal_columns(int fd);

}  // namespace hostline::cli
