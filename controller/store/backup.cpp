#include "controller/store/backup.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "controller/store/sqlite_database.hpp"

namespace hostline::controller {
namespace {

// Pages per step: small enough that each step is short, so the copy can be watched and
// cancelled between steps, large enough that a big database does not take forever.
constexpr int kPagesPerStep = 256;
// How long to wait before trying a step again when the source is locked (only a database not
// in WAL mode, or one being checkpointed in truncate mode, locks out a reader).
constexpr auto kBusyPause = std::chrono::milliseconds(50);

std::string errno_text() {
    return std::strerror(errno);
}

// The temporary file the copy is made in: beside dest (so the rename is atomic), 0600 from
// the start. Removed unless released once renamed to dest.
class PartialCopy {
  public:
    static Result<std::unique_ptr<PartialCopy>> create(const std::string& dest) {
        const std::filesystem::path target(dest);
        std::string pattern =
            (target.parent_path() / ("." + target.filename().string() + ".partial-XXXXXX"))
                .string();
        int fd = ::mkstemp(pattern.data());  // mode 0600
        if (fd < 0) {
            const std::string dir =
                target.parent_path().empty() ? "." : target.parent_path().string();
            return fail(fmt::format("cannot write a backup in {}: {}", dir, errno_text()));
        }
        ::close(fd);
        return std::unique_ptr<PartialCopy>(new PartialCopy(std::move(pattern)));
    }
    ~PartialCopy() {
        if (!released_) ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

    // fsync, then rename over dest and fsync the directory, so the copy survives a crash
    // right after the command says it is written.
    Result<void> move_to(const std::string& dest) {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::fsync(fd) != 0) {
            if (fd >= 0) ::close(fd);
            return fail(fmt::format("cannot sync {}: {}", path_, errno_text()));
        }
        ::close(fd);
        if (::rename(path_.c_str(), dest.c_str()) != 0)
            return fail(fmt::format("cannot rename {} to {}: {}", path_, dest, errno_text()));
        released_ = true;
        std::string dir = std::filesystem::path(dest).parent_path().string();
        int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd >= 0) {
            (void)::fsync(dir_fd);
            ::close(dir_fd);
        }
        return {};
    }

  private:
    explicit PartialCopy(std::string path) : path_(std::move(path)) {}
    std::string path_;
    bool released_ = false;
};

Result<void> check_destination(const std::string& dest, bool replace) {
    struct stat st {};
    if (::stat(dest.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return fail(fmt::format("{} is a directory; name the backup file to write", dest));
        if (!replace) return fail(fmt::format("{} already exists", dest));
        return {};
    }
    if (errno != ENOENT) return fail(fmt::format("cannot write {}: {}", dest, errno_text()));
    const std::filesystem::path parent = std::filesystem::path(dest).parent_path();
    if (!parent.empty() && ::stat(parent.c_str(), &st) != 0)
        return fail(fmt::format("cannot write {}: {}: {}", dest, parent.string(), errno_text()));
    if (!parent.empty() && !S_ISDIR(st.st_mode))
        return fail(fmt::format("cannot write {}: {} is not a directory", dest, parent.string()));
    return {};
}

// Copies every page of source into copy, one snapshot, kPagesPerStep at a time.
void copy_pages(SQLite::Database& source, SQLite::Database& copy, const BackupOptions& options) {
    // In WAL mode a read transaction held across the steps pins one snapshot: commits by
    // the controller meanwhile neither wait for us nor restart the copy. Without WAL (not a
    // database the controller made) holding it would block writers, so each step reads anew
    // and SQLite restarts the copy when the source changes.
    const bool wal = source.execAndGet("PRAGMA journal_mode").getString() == "wal";
    if (wal) {
        source.exec("BEGIN");
        (void)source.execAndGet("SELECT COUNT(*) FROM sqlite_master");
    }
    sqlite3_backup* backup =
        sqlite3_backup_init(copy.getHandle(), "main", source.getHandle(), "main");
    if (backup == nullptr)
        throw SQLite::Exception(copy.getHandle(), sqlite3_errcode(copy.getHandle()));
    int rc = SQLITE_OK;
    while (true) {
        rc = sqlite3_backup_step(backup, kPagesPerStep);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            std::this_thread::sleep_for(kBusyPause);
            continue;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE) break;
        if (options.progress) {
            const int total = sqlite3_backup_pagecount(backup);
            options.progress(total - sqlite3_backup_remaining(backup), total);
        }
        if (rc == SQLITE_DONE) break;
    }
    sqlite3_backup_finish(backup);  // returns rc again; the copy's errcode holds it
    if (wal) source.exec("COMMIT");
    if (rc != SQLITE_DONE) throw SQLite::Exception(sqlite3_errstr(rc), rc);
}

}  // namespace

Result<BackupReport> backup_database(const std::string& source_path, const std::string& dest,
                                     const BackupOptions& options) {
    struct stat st {};
    if (::stat(source_path.c_str(), &st) != 0)
        return fail(fmt::format("no database at {}: {}", source_path, errno_text()));
    if (auto checked = check_destination(dest, options.replace); !checked) return checked.error();
    auto partial = PartialCopy::create(dest);
    if (!partial) return partial.error();
    BackupReport report;
    report.path = dest;
    try {
        SQLite::Database source = detail::open_existing(source_path);
        SQLite::Database copy((*partial)->path(), SQLite::OPEN_READWRITE, detail::kBusyTimeoutMs);
        copy_pages(source, copy, options);
        // One self-contained file: the source's WAL mode would come with the pages.
        copy.exec("PRAGMA journal_mode = DELETE");
        const std::string check = copy.execAndGet("PRAGMA quick_check").getString();
        if (check != "ok")
            return fail(
                fmt::format("the copy of {} failed PRAGMA quick_check: {}", source_path, check));
        if (copy.tableExists("schema_version"))
            report.schema_version =
                copy.execAndGet("SELECT COALESCE(MAX(version), 0) FROM schema_version").getInt();
    } catch (const std::exception& e) {
        return fail(fmt::format("cannot back up {} to {}: {}", source_path, dest, e.what()));
    }
    if (::stat((*partial)->path().c_str(), &st) == 0) report.bytes = st.st_size;
    if (auto moved = (*partial)->move_to(dest); !moved) return moved.error();
    return report;
}

}  // namespace hostline::controller
