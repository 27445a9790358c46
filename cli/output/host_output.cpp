#include "cli/output/host_output.hpp"

#include <algorithm>

#include "cli/output/format.hpp"

namespace hostline::cli {

HostOutput::HostOutput(std::ostream& out, std::size_t host_width)
    : out_(out), host_width_(host_width) {}

void HostOutput::fit_host(std::string_view host) {
    host_width_ = std::max(host_width_, display_width(host));
}

void HostOutput::write(const std::string& host, std::string_view stream, std::string_view data) {
    fit_host(host);
    const bool is_stderr = stream == "stderr";
    pending_[{host, is_stderr}].feed(
        data, [&](std::string_view line) { print_line(host, is_stderr, line); });
    out_.flush();
}

void HostOutput::finish(const std::string& host) {
    for (bool is_stderr : {false, true}) {
        auto it = pending_.find({host, is_stderr});
        if (it == pending_.end()) continue;
        std::string rest = it->second.take_pending();
        if (!rest.empty()) print_line(host, is_stderr, rest);
    }
    out_.flush();
}

void HostOutput::finish_all() {
    for (auto& [key, splitter] : pending_) {
        std::string rest = splitter.take_pending();
        if (!rest.empty()) print_line(key.first, key.second, rest);
    }
    out_.flush();
}

void HostOutput::print_line(const std::string& host, bool is_stderr, std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out_ << host;
    const std::size_t width = display_width(host);
    if (width < host_width_) out_ << std::string(host_width_ - width, ' ');
    out_ << (is_stderr ? " ! " : " | ") << line << '\n';
}

}  // namespace hostline::cli
