#include "controller/maintenance.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "controller/data_dir.hpp"
#include "controller/store/backup.hpp"
#include "controller/store/schema.hpp"

namespace hostline::controller {
namespace {

// Progress is worth showing from ~100 MB (4 KiB pages) on, at most every few seconds.
constexpr int kProgressFromPages = 25600;
constexpr auto kProgressEvery = std::chrono::seconds(3);

// The pre-upgrade backup's name: which schema it holds and when it was taken.
std::string upgrade_backup_path(const ControllerConfig& config, int schema_version) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    return config.data_dir + "/backups/hostline-schema" + std::to_string(schema_version) + "-" +
           stamp + ".db";
}

// Reports the copy's progress on stderr (stdout is for what was done), for big ones only.
BackupOptions with_progress(BackupOptions options) {
    auto last = std::chrono::steady_clock::now();
    options.progress = [last](int copied, int total) mutable {
        const auto now = std::chrono::steady_clock::now();
        if (total < kProgressFromPages || now - last < kProgressEvery) return;
        last = now;
        std::fprintf(stderr, "backup: %d of %d pages copied (%d%%)\n", copied, total,
                     static_cast<int>(100LL * copied / total));
    };
    return options;
}

// What init did, or why it stopped (after the lines of what it had done by then).
Result<void> init(const ControllerConfig& config, std::vector<std::string>& done) {
    auto data_dir = prepare_data_dir(config);
    if (!data_dir) return data_dir.error();
    done = data_dir->created;

    const std::string database = config.database_path();
    auto schema = check_schema(database);  // read-only: a newer schema is refused untouched
    if (!schema) return schema.error();
    if (*schema && !(*schema)->upgrade_needed) return {};
    if (*schema && (*schema)->version > 0) {
        const std::string backups = config.data_dir + "/backups";
        if (::mkdir(backups.c_str(), 0750) != 0 && errno != EEXIST)
            return fail("cannot create " + backups + ": " + std::strerror(errno));
        auto backup = backup_database(database, upgrade_backup_path(config, (*schema)->version),
                                      with_progress({}));
        if (!backup) return fail("not upgrading the database: " + backup.error().message);
        done.push_back("backed up the database (schema version " +
                       std::to_string(backup->schema_version) + ") to " + backup->path);
    }
    auto upgrade = upgrade_schema(database);
    if (!upgrade) return upgrade.error();
    if (!*schema)
        done.push_back("created the database " + database + " at schema version " +
                       std::to_string(upgrade->to));
    else
        done.push_back("upgraded the database " + database + " from schema version " +
                       std::to_string(upgrade->from) + " to " + std::to_string(upgrade->to));
    return {};
}

}  // namespace

int run_init(const ControllerConfig& config) {
    // The store logs each migration; here the lines below say it once, plainly.
    spdlog::set_level(spdlog::level::warn);
    std::vector<std::string> done;
    auto result = init(config, done);
    for (const std::string& line : done) std::printf("%s\n", line.c_str());
    if (!result) {
        std::fprintf(stderr, "hostline-controller init: %s\n", result.error().message.c_str());
        return 1;
    }
    if (done.empty())
        std::printf("nothing to do: %s is ready (database at schema version %d)\n",
                    config.data_dir.c_str(), known_schema_version());
    return 0;
}

int run_backup(const ControllerConfig& config, const std::string& dest, bool replace) {
    BackupOptions options;
    options.replace = replace;
    auto backup = backup_database(config.database_path(), dest, with_progress(options));
    if (!backup) {
        struct stat st {};
        const bool refused = !replace && ::stat(dest.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
        std::fprintf(stderr, "hostline-controller backup: %s%s\n", backup.error().message.c_str(),
                     refused ? " (--force replaces it)" : "");
        return 1;
    }
    std::printf("wrote %s: %lld bytes, schema version %d, quick_check ok\n", backup->path.c_str(),
                static_cast<long long>(backup->bytes), backup->schema_version);
    return 0;
}

}  // namespace hostline::controller
