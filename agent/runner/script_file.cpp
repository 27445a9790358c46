#include "agent/runner/script_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace hostline::agent {
namespace {

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// Writes all of data to fd, retrying short writes and EINTR.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

Result<uid_t> uid_of(const std::string& user) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc != 0) return fail("cannot look up user '" + user + "': " + std::strerror(rc));
    if (found == nullptr) return fail("unknown user '" + user + "'");
    return found->pw_uid;
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    // libsodium, which libzmq maps anyway: OpenSSL's libcrypto cost the idle agent 3.4 MB of
    // RSS for this one hash (docs/performance.md, "Output and agent footprint").
    unsigned char digest[crypto_hash_sha256_BYTES];
    constexpr unsigned int length = crypto_hash_sha256_BYTES;
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 0xf];
    }
    return out;
}

ScriptFiles::ScriptFiles(std::string dir) : dir_(std::move(dir)) {}

ScriptFiles::~ScriptFiles() {
    for (const auto& [run_id, path] : files_) ::unlink(path.c_str());
}

Result<void> ScriptFiles::prepare() {
    if (::mkdir(dir_.c_str(), 0711) != 0 && errno != EEXIST)
        return fail(errno_text("cannot create " + dir_));
    struct stat st {};
    if (::lstat(dir_.c_str(), &st) != 0) return fail(errno_text(dir_));
    if (!S_ISDIR(st.st_mode)) return fail(dir_ + " is not a directory");
    if (::chmod(dir_.c_str(), 0711) != 0) return fail(errno_text("cannot chmod " + dir_));
    DIR* dir = ::opendir(dir_.c_str());
    if (dir == nullptr) return fail(errno_text("cannot read " + dir_));
    // Only this agent writes here, and only files: whatever is left is a leftover copy.
    while (const dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        ::unlinkat(::dirfd(dir), entry->d_name, 0);
    }
    ::closedir(dir);
    return {};
}

Result<std::string> ScriptFiles::write(std::uint64_t run_id, std::string_view content,
                                       std::string_view sha256, const std::string& user) {
    const std::string actual = sha256_hex(content);
    if (actual != lowercase(sha256)) {
        if (content.empty())
            return fail("the run names a script (sha256 " + std::string(sha256) +
                        ") but carries no content");
        return fail("the script does not match its sha256 (expected " + std::string(sha256) +
                    ", got " + actual + ")");
    }
    std::optional<uid_t> owner;
    if (!user.empty()) {
        // Same words as the runner's refusal: without root there is no one to give it to.
        if (::geteuid() != 0)
            return fail("cannot run as user '" + user + "': the agent is not running as root");
        auto uid = uid_of(user);
        if (!uid) return uid.error();
        owner = *uid;
    }
    remove(run_id);

    std::string path = dir_ + "/run-" + std::to_string(run_id) + "-XXXXXX";
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return fail(errno_text("cannot create a script file in " + dir_));
    auto give_up = [&](const std::string& what) {
        Error error = fail(errno_text(what + " " + path));
        ::close(fd);
        ::unlink(path.c_str());
        return error;
    };
    if (!write_all(fd, content)) return give_up("cannot write");
    if (owner) {
        if (::fchown(fd, *owner, static_cast<gid_t>(-1)) != 0) return give_up("cannot chown");
        if (::fchmod(fd, 0500) != 0) return give_up("cannot chmod");
    } else if (::fchmod(fd, 0700) != 0) {
        return give_up("cannot chmod");
    }
    if (::close(fd) != 0) {  // NFS and some file systems report a full disk only here
        Error error = fail(errno_text("cannot write " + path));
        ::unlink(path.c_str());
        return error;
    }
    files_[run_id] = path;
    return path;
}

void ScriptFiles::remove(std::uint64_t run_id) {
    auto it = files_.find(run_id);
    if (it == files_.end()) return;
    ::unlink(it->second.c_str());
    files_.erase(it);
}

}  // namespace hostline::agent
