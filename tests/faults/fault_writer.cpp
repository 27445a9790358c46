// fault_writer TAG LINES DELAY_US: prints LINES lines (expected_output.hpp) to stdout, each
// with its own write(2) so the agent sees them as they come, sleeping DELAY_US between them;
// exits 0. The fault tests run it as a job and compare what was stored with what it wrote.
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "faults/expected_output.hpp"

namespace {

bool write_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

bool parse_count(const char* text, unsigned long long& value) {
    char* end = nullptr;
    errno = 0;
    value = std::strtoull(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && text[0] != '-';
}

}  // namespace

int main(int argc, char** argv) {
    unsigned long long lines = 0, delay_us = 0;
    if (argc != 4 || argv[1][0] == '\0' || !parse_count(argv[2], lines) ||
        !parse_count(argv[3], delay_us) || lines > 999999) {
        std::fprintf(stderr, "usage: fault_writer TAG LINES DELAY_US (LINES at most 999999)\n");
        return 2;
    }
    const timespec pause{static_cast<time_t>(delay_us / 1000000),
                         static_cast<long>(delay_us % 1000000) * 1000};
    for (unsigned long long i = 0; i < lines; ++i) {
        if (i > 0 && delay_us > 0) ::nanosleep(&pause, nullptr);
        if (!write_all(hostline::faults::writer_line(argv[1], i))) {
            std::perror("fault_writer: write");
            return 1;
        }
    }
    return 0;
}
