// LineSplitter: cuts a byte stream that arrives in arbitrary pieces into whole lines.
//
// Used for the NDJSON event stream (lines split across HTTP chunks) and for host output
// (lines split across output chunks). Not thread-safe; one splitter per stream.
#pragma once

#include <string>
#include <string_view>

namespace hostline::cli {

class LineSplitter {
  public:
    // Calls on_line(std::string_view) for every line completed by data, without its '\n'
    // (a trailing '\r' is kept: callers decide). The view is valid only during the call.
    template <typename OnLine>
    void feed(std::string_view data, OnLine&& on_line) {
        std::size_t start = 0;
        for (std::size_t nl = data.find('\n'); nl != std::string_view::npos;
             nl = data.find('\n', start)) {
            std::string_view piece = data.substr(start, nl - start);
            if (pending_.empty()) {
                on_line(piece);
            } else {
                pending_.append(piece);
                on_line(std::string_view(pending_));
                pending_.clear();
            }
            start = nl + 1;
        }
        pending_.append(data.substr(start));
    }

    // The bytes after the last '\n' so far (a line still being written).
    const std::string& pending() const { return pending_; }

    // Returns the unfinished line and forgets it; empty when there is none.
    std::string take_pending() {
        std::string rest = std::move(pending_);
        pending_.clear();
        return rest;
    }

  private:
    std::string pending_;
};

}  // namespace hostline::cli
