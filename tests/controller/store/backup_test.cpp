// The online backup against a real database that another connection keeps writing to, as the
// running controller does: one snapshot, copied in steps, never restarted, never half-written.
#include "controller/store/backup.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/schema.hpp"

namespace hostline::controller {
namespace {

namespace fs = std::filesystem;

class BackupTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "backup-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        source_ = dir_ + "/hostline.db";
        dest_ = dir_ + "/copy.db";
    }
    void TearDown() override { fs::remove_all(dir_); }

    // A database of the current schema with `rows` rows of 4 KiB in a table of the test's.
    void make_source(int rows) {
        ASSERT_TRUE(upgrade_schema(source_).ok());
        SQLite::Database db(source_, SQLite::OPEN_READWRITE);
        db.exec("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        SQLite::Transaction transaction(db);
        for (int i = 0; i < rows; ++i) db.exec("INSERT INTO filler (data) VALUES (zeroblob(4096))");
        transaction.commit();
    }

    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir_))
            names.push_back(entry.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }

    std::string dir_;
    std::string source_;
    std::string dest_;
};

TEST_F(BackupTest, CopiesOneSnapshotInStepsWhileAnotherConnectionWrites) {
    make_source(2000);  // ~8 MB: many steps of 256 pages

    std::atomic<bool> writing{true};
    std::atomic<int> written{0};
    std::thread writer([&] {
        SQLite::Database db(source_, SQLite::OPEN_READWRITE, 5000);
        while (writing) {
            db.exec("INSERT INTO filler (data) VALUES (zeroblob(4096))");
            ++written;
        }
    });
    while (written < 10) std::this_thread::yield();

    // After the first step, hold the copy until the writer has committed more: the
    // controller's writes go on between steps, and the copy must neither wait for them nor
    // start again because of them.
    std::vector<std::pair<int, int>> steps;
    bool writer_went_on = false;
    BackupOptions options;
    options.progress = [&](int copied, int total) {
        steps.emplace_back(copied, total);
        if (steps.size() != 1) return;
        const int seen = written;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (written < seen + 20 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        writer_went_on = written >= seen + 20;
    };
    auto report = backup_database(source_, dest_, options);
    const int written_after = written;
    writing = false;
    writer.join();
    ASSERT_TRUE(report.ok()) << report.error().message;

    ASSERT_GT(steps.size(), 5u);
    for (std::size_t i = 1; i < steps.size(); ++i) {
        EXPECT_GT(steps[i].first, steps[i - 1].first) << "the copy restarted at step " << i;
        EXPECT_EQ(steps[i].second, steps[0].second) << "the snapshot changed at step " << i;
    }
    EXPECT_EQ(steps.back().first, steps.back().second);
    EXPECT_TRUE(writer_went_on) << "the writer was blocked by the copy";

    struct stat st {};
    ASSERT_EQ(::stat(dest_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(report->bytes, st.st_size);
    EXPECT_EQ(report->schema_version, known_schema_version());
    SQLite::Database copy(dest_, SQLite::OPEN_READWRITE);
    EXPECT_EQ(copy.execAndGet("PRAGMA quick_check").getString(), "ok");
    EXPECT_EQ(copy.execAndGet("PRAGMA journal_mode").getString(), "delete");
    const int copied_rows = copy.execAndGet("SELECT COUNT(*) FROM filler").getInt();
    EXPECT_GE(copied_rows, 2000 + 10);
    EXPECT_LE(copied_rows, 2000 + written_after);
}

TEST_F(BackupTest, AFailedCopyLeavesNoDestinationAndNoPartialFile) {
    std::ofstream(source_) << std::string(8192, 'x');  // not a database
    auto report = backup_database(source_, dest_);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find("cannot back up " + source_), std::string::npos)
        << report.error().message;
    EXPECT_EQ(files(), std::vector<std::string>{"hostline.db"});
}

TEST_F(BackupTest, AnExistingDestinationIsReplacedOnlyWhenAsked) {
    make_source(1);
    std::ofstream(dest_) << "precious";
    auto refused = backup_database(source_, dest_);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, dest_ + " already exists");
    std::ifstream kept(dest_);
    std::string text;
    kept >> text;
    EXPECT_EQ(text, "precious");

    BackupOptions replace;
    replace.replace = true;
    auto replaced = backup_database(source_, dest_, replace);
    ASSERT_TRUE(replaced.ok()) << replaced.error().message;
    SQLite::Database copy(dest_, SQLite::OPEN_READWRITE);
    EXPECT_EQ(copy.execAndGet("SELECT COUNT(*) FROM filler").getInt(), 1);
}

TEST_F(BackupTest, NoDatabaseIsAnErrorAndCreatesNothing) {
    auto report = backup_database(source_, dest_);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find("no database at " + source_), std::string::npos)
        << report.error().message;
    EXPECT_TRUE(files().empty());
}

}  // namespace
}  // namespace hostline::controller
