// HostOutput: prints the output of many hosts interleaved, one line at a time, each line
// prefixed with its host: "web-01 | text" for stdout, "web-01 ! text" for stderr.
//
// A line is printed once its '\n' arrives; the unfinished rest waits per (host, stream)
// until then or until finish() is called for that host. Not thread-safe.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include "cli/line_splitter.hpp"

namespace hostline::cli {

class HostOutput {
  public:
    // host_width: the column the separators line up at (the widest host name).
    HostOutput(std::ostream& out, std::size_t host_width);

    // Widens the host column so that host fits (it never narrows).
    void fit_host(std::string_view host);

    // Adds output from host; stream is "stdout" or "stderr" (anything else counts as
    // stdout).
    void write(const std::string& host, std::string_view stream, std::string_view data);

    // Prints the unfinished lines of host (its process has ended).
    void finish(const std::string& host);

    // Prints the unfinished lines of every host.
    void finish_all();

  private:
    void print_line(const std::string& host, bool is_stderr, std::string_view line);

    std::ostream& out_;
    std::size_t host_width_;
    std::map<std::pair<std::string, bool>, LineSplitter> pending_;  // by (host, is_stderr)
};

}  // namespace hostline::cli
