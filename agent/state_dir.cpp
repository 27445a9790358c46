#include "agent/state_dir.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace hostline::agent {
namespace {

constexpr mode_t kStateDirMode = 0711;  // traverse only, for run users reaching their script

}  // namespace

Result<void> prepare_state_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), kStateDirMode) != 0 && errno != EEXIST)
        return fail("cannot create " + dir + ": " + std::strerror(errno));
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return fail(dir + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail(dir + " is not a directory");
    // mkdir's mode is filtered by the umask, and an existing directory keeps whatever it had.
    if ((st.st_mode & 07777) != kStateDirMode && ::chmod(dir.c_str(), kStateDirMode) != 0)
        return fail("cannot chmod " + dir + ": " + std::strerror(errno));
    return {};
}

}  // namespace hostline::agent
