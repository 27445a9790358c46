// The open-files limit raised to its hard limit: a controller holds a descriptor per agent
// connection, an emulated identity four; children started after this inherit it.
#pragma once

#include <sys/resource.h>

namespace hostline::bench {

// The soft limit now (the hard limit, unless raising it failed).
inline rlim_t raise_open_files_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

}  // namespace hostline::bench
