// hostline-controller init and backup, and what the controller tells systemd: the real binary
// on real data directories, as the packages' maintainer scripts and an operator run it.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/migrations.hpp"
#include "controller/store/schema.hpp"
#include "notify_socket.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string controller_bin() {
    const char* dir = std::getenv("HOSTLINE_BIN_DIR");
    return std::string(dir != nullptr ? dir : "bin") + "/hostline-controller";
}

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

// Every file and directory under dir with its content and mtime: what "changes nothing" means.
std::map<std::string, std::string> snapshot(const std::string& dir) {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        struct stat st {};
        ::stat(entry.path().c_str(), &st);
        std::string state = std::to_string(st.st_mtim.tv_sec) + "." +
                            std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_mode);
        if (entry.is_regular_file()) state += " " + read_whole(entry.path());
        files[entry.path().string()] = state;
    }
    return files;
}

// The highest schema version applied to the database at path (opened read-write so that
// closing it leaves no -wal or -shm behind).
int schema_of(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    return db.execAndGet("SELECT MAX(version) FROM schema_version").getInt();
}

int jobs_in(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    return db.execAndGet("SELECT COUNT(*) FROM jobs").getInt();
}

// A configuration whose data_dir does not exist yet, in a temporary directory.
class Installation {
  public:
    Installation() {
        char pattern[] = "/tmp/hostline-ops-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        std::ofstream(config()) << "[controller]\ndata_dir = \"" << data_dir()
                                << "\"\nagent_listen = \"tcp://127.0.0.1:" << free_tcp_port()
                                << "\"\n[http]\nport = " << free_tcp_port() << "\n";
    }
    ~Installation() { fs::remove_all(dir_); }

    std::string config() const { return dir_ + "/controller.toml"; }
    std::string data_dir() const { return dir_ + "/data"; }
    std::string database() const { return data_dir() + "/hostline.db"; }
    const std::string& dir() const { return dir_; }

    CommandResult run(std::vector<std::string> args) const {
        args.insert(args.begin(), controller_bin());
        args.insert(args.end(), {"-c", config()});
        return run_command(args);
    }

    // A database as an older hostline left it: the first `version` migrations, through their
    // own SQL, and one job.
    void make_old_database(int version) const {
        fs::create_directories(data_dir());
        SQLite::Database db(database(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at_ms INTEGER "
            "NOT NULL)");
        for (const auto& migration : controller::detail::migrations()) {
            if (migration.version > version) break;
            db.exec(std::string(migration.sql));
            db.exec("INSERT INTO schema_version VALUES (" + std::to_string(migration.version) +
                    ", 0)");
        }
        db.exec(
            "INSERT INTO jobs (id, requester, source, target, argv, env, cwd, timeout_ms, state, "
            "cancel_requested, created_at_ms, finished_at_ms) VALUES (1, 'local:alice', 'cli', "
            "'web-1', '[\"uptime\"]', '{}', '', 1000, 'succeeded', 0, 1, 2)");
    }

  private:
    std::string dir_;
};

TEST(ControllerInit, OnAnEmptyDirCreatesKeysTokenAndTheDatabase) {
    Installation host;
    CommandResult init = host.run({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const int current = controller::known_schema_version();
    EXPECT_NE(init.out.find("created the data directory " + host.data_dir()), std::string::npos)
        << init.out;
    EXPECT_NE(init.out.find("created the controller's CURVE key pair"), std::string::npos)
        << init.out;
    EXPECT_NE(init.out.find("created the admin API token"), std::string::npos) << init.out;
    EXPECT_NE(init.out.find("created the database " + host.database() + " at schema version " +
                            std::to_string(current)),
              std::string::npos)
        << init.out;
    EXPECT_EQ(mode_of(host.data_dir()), 0750u);
    EXPECT_EQ(mode_of(host.data_dir() + "/admin.token"), 0600u);
    EXPECT_EQ(mode_of(host.data_dir() + "/keys/controller.key"), 0600u);
    EXPECT_GE(read_whole(host.data_dir() + "/admin.token").size(), 64u);
    EXPECT_EQ(read_whole(host.data_dir() + "/keys/controller.pub").size(), 41u);  // Z85 + \n
    EXPECT_EQ(schema_of(host.database()), current);

    const auto before = snapshot(host.data_dir());
    std::this_thread::sleep_for(20ms);  // so that a rewrite would show in an mtime
    CommandResult again = host.run({"init"});
    ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_EQ(again.out, "nothing to do: " + host.data_dir() +
                             " is ready (database at schema version " + std::to_string(current) +
                             ")\n");
    EXPECT_EQ(snapshot(host.data_dir()), before);
}

TEST(ControllerInit, BacksUpAnOlderSchemaThenUpgradesIt) {
    Installation host;
    host.make_old_database(4);
    CommandResult init = host.run({"init"});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    const int current = controller::known_schema_version();
    EXPECT_NE(init.out.find("upgraded the database " + host.database() +
                            " from schema version 4 to " + std::to_string(current)),
              std::string::npos)
        << init.out;

    std::vector<fs::path> backups;
    for (const auto& entry : fs::directory_iterator(host.data_dir() + "/backups"))
        backups.push_back(entry.path());
    ASSERT_EQ(backups.size(), 1u);
    const std::string backup = backups[0].string();
    EXPECT_TRUE(backups[0].filename().string().starts_with("hostline-schema4-")) << backup;
    EXPECT_NE(init.out.find("backed up the database (schema version 4) to " + backup),
              std::string::npos)
        << init.out;
    // The announced order: the backup is taken before the upgrade.
    EXPECT_LT(init.out.find("backed up"), init.out.find("upgraded")) << init.out;
    EXPECT_EQ(mode_of(backup), 0600u);
    EXPECT_EQ(schema_of(backup), 4) << "the backup holds the old schema";
    EXPECT_EQ(jobs_in(backup), 1) << "and the old rows";
    EXPECT_EQ(schema_of(host.database()), current);
    EXPECT_EQ(jobs_in(host.database()), 1);

    // The controller starts on the upgraded database and finds the old job.
    const pid_t controller =
        start_process({controller_bin(), "-c", host.config()}, host.dir() + "/controller.log");
    std::string endpoints;
    for (int i = 0; i < 600 && endpoints.empty() && process_alive(controller); ++i) {
        std::this_thread::sleep_for(50ms);
        endpoints = read_whole(host.data_dir() + "/endpoints");
    }
    EXPECT_FALSE(endpoints.empty()) << read_whole(host.dir() + "/controller.log");
    ::kill(controller, SIGTERM);
    for (int i = 0; i < 600 && process_alive(controller); ++i) std::this_thread::sleep_for(50ms);
    int status = -1;
    ASSERT_EQ(::waitpid(controller, &status, 0), controller);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(ControllerVersion, PrintsTheVersion) {
    CommandResult version = run_command({controller_bin(), "--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, std::string("hostline-controller ") + HOSTLINE_VERSION + "\n");
}

TEST(ControllerInit, RefusesANewerSchemaAndLeavesTheDatabaseAlone) {
    Installation host;
    ASSERT_EQ(host.run({"init"}).exit_code, 0);
    const int newer = controller::known_schema_version() + 1;
    {
        SQLite::Database db(host.database(), SQLite::OPEN_READWRITE);
        db.exec("INSERT INTO schema_version VALUES (" + std::to_string(newer) + ", 0)");
    }
    const auto before = snapshot(host.data_dir());
    std::this_thread::sleep_for(20ms);

    CommandResult init = host.run({"init"});
    EXPECT_EQ(init.exit_code, 1);
    const std::string versions = "schema version " + std::to_string(newer) +
                                 ", newer than this hostline-controller knows (" +
                                 std::to_string(newer - 1) + ")";
    EXPECT_NE(init.err.find(versions), std::string::npos) << init.err;
    EXPECT_NE(init.err.find("restore a backup"), std::string::npos) << init.err;
    EXPECT_EQ(snapshot(host.data_dir()), before) << "no backup, no change";

    // The daemon refuses to start with the same words.
    CommandResult start = run_command({controller_bin(), "-c", host.config()}, 30s);
    EXPECT_EQ(start.exit_code, 1);
    EXPECT_NE((start.out + start.err).find(versions), std::string::npos) << start.out << start.err;
    EXPECT_EQ(schema_of(host.database()), newer);
}

TEST(ControllerBackup, CopiesTheDatabaseWhileJobsAreWritten) {
    LocalCluster cluster;
    cluster.start_controller();
    cluster.add_agent("web-1");
    cluster.add_agent("web-2");
    cluster.wait_online({"web-1", "web-2"});
    std::vector<long> committed;
    for (int i = 0; i < 5; ++i) {
        const auto job = cluster.post_api(
            "/api/v1/jobs",
            {{"target", "web-*"}, {"argv", {"echo", "before " + std::to_string(i)}}});
        committed.push_back(job["job"].get<long>());
    }
    for (long id : committed) {
        auto done = cluster.wait_job(id, [](const nlohmann::json& j) {
            return j.contains("job") && j["job"].value("state", "") == "succeeded";
        });
        ASSERT_EQ(done["job"]["state"], "succeeded") << done.dump();
    }

    // Jobs keep coming while the copy is taken.
    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::thread writer([&] {
        while (writing) {
            try {
                cluster.post_api("/api/v1/jobs",
                                 {{"target", "web-*"}, {"argv", {"echo", "during"}}});
                ++written;
            } catch (const std::exception&) {
            }
        }
    });
    while (written < 3) std::this_thread::sleep_for(10ms);
    const std::string dest = cluster.dir() + "/copy.db";
    const std::string config = cluster.dir() + "/controller.toml";
    CommandResult backup = run_command({controller_bin(), "backup", dest, "-c", config});
    writing = false;
    writer.join();
    ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
    EXPECT_TRUE(backup.out.starts_with("wrote " + dest + ": ")) << backup.out;
    EXPECT_NE(backup.out.find("quick_check ok"), std::string::npos) << backup.out;
    EXPECT_EQ(mode_of(dest), 0600u);
    {
        SQLite::Database copy(dest, SQLite::OPEN_READWRITE);
        EXPECT_EQ(copy.execAndGet("PRAGMA quick_check").getString(), "ok");
        for (long id : committed) {
            SQLite::Statement job(copy, "SELECT state FROM jobs WHERE id = ?");
            job.bind(1, static_cast<std::int64_t>(id));
            ASSERT_TRUE(job.executeStep()) << "job #" << id << " is not in the copy";
            EXPECT_EQ(job.getColumn(0).getString(), "succeeded");
        }
        EXPECT_EQ(copy.execAndGet("SELECT MAX(version) FROM schema_version").getInt(),
                  controller::known_schema_version());
    }
    EXPECT_TRUE(cluster.controller_alive());

    // An existing DEST is kept unless --force.
    const std::string first = read_whole(dest);
    CommandResult refused = run_command({controller_bin(), "backup", dest, "-c", config});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find(dest + " already exists (--force replaces it)"), std::string::npos)
        << refused.err;
    EXPECT_EQ(read_whole(dest), first);
    CommandResult forced = run_command({controller_bin(), "backup", dest, "--force", "-c", config});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;

    // A directory that does not exist is named in the error, and nothing is left behind.
    const std::string nowhere = cluster.dir() + "/no-such-dir";
    CommandResult lost =
        run_command({controller_bin(), "backup", nowhere + "/copy.db", "-c", config});
    EXPECT_EQ(lost.exit_code, 1);
    EXPECT_NE(lost.err.find("cannot write " + nowhere + "/copy.db: " + nowhere), std::string::npos)
        << lost.err;
    EXPECT_FALSE(fs::exists(nowhere));
    for (const auto& entry : fs::directory_iterator(cluster.dir()))
        EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos)
            << entry.path();
}

// Whether something accepts a TCP connection on 127.0.0.1:port right now.
bool answers(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected =
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
}

TEST(ControllerServiceManager, ReadyOnceListeningStatusAsAgentsComeStoppingOnSigterm) {
    LocalCluster cluster;
    NotifySocket systemd(cluster.dir() + "/notify.sock");
    cluster.start_controller();
    const std::string ready = systemd.wait_for("READY=1", 30s);
    ASSERT_FALSE(ready.empty()) << cluster.controller_log();
    const int http_port = std::stoi(cluster.http_url().substr(cluster.http_url().rfind(':') + 1));
    EXPECT_TRUE(answers(http_port)) << "READY=1 came before the HTTP port answered";
    EXPECT_TRUE(answers(cluster.agent_port())) << "READY=1 came before the agents' port answered";
    EXPECT_EQ(ready, "READY=1\nSTATUS=listening: agents tcp://127.0.0.1:" +
                         std::to_string(cluster.agent_port()) +
                         ", http 127.0.0.1:" + std::to_string(http_port));

    cluster.add_agent("web-1");
    const std::string status = systemd.wait_for("1 agent(s) online", 30s);
    EXPECT_EQ(status,
              "STATUS=1 agent(s) online, 0 run(s) running; listening: agents "
              "tcp://127.0.0.1:" +
                  std::to_string(cluster.agent_port()) +
                  ", http 127.0.0.1:" + std::to_string(http_port));

    cluster.signal_controller(SIGTERM);
    EXPECT_EQ(systemd.wait_for("STOPPING=1", 30s), "STOPPING=1\nSTATUS=stopping: SIGTERM");
}

}  // namespace
}  // namespace hostline::testing
