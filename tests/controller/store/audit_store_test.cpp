// The audit chain in the real SQLite store: rows chain in the order they are appended, the
// chain survives a reopen, and verification names the first row that was changed behind the
// store's back. Completions run on the store thread here; the tests wait on futures.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "controller/store/audit_chain.hpp"
#include "controller/store/migrations.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {
namespace {

AuditEvent event(std::string kind, std::string subject,
                 std::map<std::string, std::string> detail = {}) {
    return AuditEvent{std::move(kind), "irc:alice", std::move(subject), std::move(detail)};
}

class AuditStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "audit-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        path_ = (dir_ / "hostline.db").string();
    }
    void TearDown() override {
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    Store& open() {
        store_.reset();
        auto opened = Store::open(path_, [](std::function<void()> f) { f(); });
        if (!opened) ADD_FAILURE() << opened.error().message;
        store_ = std::move(*opened);
        return *store_;
    }

    std::vector<AuditRow> rows(AuditQuery query = {.oldest_first = true}) {
        std::promise<Result<std::vector<AuditRow>>> answer;
        store_->audit(query, [&](Result<std::vector<AuditRow>> r) { answer.set_value(r); });
        auto result = answer.get_future().get();
        EXPECT_TRUE(result.ok()) << result.error().message;
        return result ? *result : std::vector<AuditRow>{};
    }

    AuditVerification verify() {
        std::promise<Result<AuditVerification>> answer;
        store_->verify_audit([&](Result<AuditVerification> r) { answer.set_value(r); });
        auto result = answer.get_future().get();
        EXPECT_TRUE(result.ok()) << result.error().message;
        return result ? *result : AuditVerification{};
    }

    // Changes the database file behind the store's back, as an attacker with the file would.
    void tamper(const std::string& sql) {
        store_.reset();
        SQLite::Database db(path_, SQLite::OPEN_READWRITE);
        db.exec(sql);
    }

    std::filesystem::path dir_;
    std::string path_;
    std::unique_ptr<Store> store_;
};

TEST_F(AuditStoreTest, RowsChainInAppendOrderFromTheGenesisHash) {
    Store& store = open();
    store.append_audit(event("job.created", "job:1", {{"target", "web-*"}, {"argv", "uptime"}}),
                       1000);
    store.append_audit(event("run.finished", "run:1", {{"exit_code", "0"}}), 2000);
    store.append_audit(event("run.finished", "run:2"), 3000);

    const auto all = rows();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, 1);
    EXPECT_EQ(all[0].prev_hash, kAuditGenesisHash);
    EXPECT_EQ(all[0].detail, R"({"argv":"uptime","target":"web-*"})");  // keys sorted
    EXPECT_EQ(all[1].prev_hash, all[0].hash);
    EXPECT_EQ(all[2].prev_hash, all[1].hash);
    for (const auto& row : all) {
        EXPECT_EQ(row.hash, audit_hash(row));
        EXPECT_EQ(row.hash.size(), 64u);
    }
    const auto verdict = verify();
    EXPECT_EQ(verdict.broken_row, 0) << verdict.problem;
    EXPECT_EQ(verdict.rows, 3);
}

TEST_F(AuditStoreTest, TheChainContinuesAfterAReopen) {
    open().append_audit(event("controller.started", "controller"), 1000);
    open().append_audit(event("controller.started", "controller"), 2000);  // reopens

    const auto all = rows();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].id, 2);
    EXPECT_EQ(all[1].prev_hash, all[0].hash);
    EXPECT_EQ(verify().broken_row, 0);
}

TEST_F(AuditStoreTest, AChangedRowIsNamedByItsHash) {
    Store& store = open();
    for (int i = 1; i <= 5; ++i)
        store.append_audit(event("job.created", "job:" + std::to_string(i)), i);
    tamper("UPDATE audit SET actor = 'irc:mallory' WHERE id = 3");
    open();

    const auto verdict = verify();
    EXPECT_EQ(verdict.broken_row, 3);
    EXPECT_EQ(verdict.problem, "row 3: hash does not match its contents");
}

TEST_F(AuditStoreTest, ARowRehashedAfterAChangeBreaksTheLinkToTheNext) {
    Store& store = open();
    for (int i = 1; i <= 4; ++i)
        store.append_audit(event("job.created", "job:" + std::to_string(i)), i);
    auto row = rows()[1];
    row.subject = "job:99";
    row.hash = audit_hash(row);  // a careful forger recomputes the changed row's own hash
    tamper("UPDATE audit SET subject = 'job:99', hash = '" + row.hash + "' WHERE id = 2");
    open();

    const auto verdict = verify();
    EXPECT_EQ(verdict.broken_row, 3);
    EXPECT_EQ(verdict.problem, "row 3: prev_hash does not match row 2");
}

TEST_F(AuditStoreTest, ADeletedRowIsNamed) {
    Store& store = open();
    for (int i = 1; i <= 4; ++i)
        store.append_audit(event("job.created", "job:" + std::to_string(i)), i);
    tamper("DELETE FROM audit WHERE id = 2");
    open();

    const auto verdict = verify();
    EXPECT_EQ(verdict.broken_row, 3);
    EXPECT_EQ(verdict.problem, "row 3: rows 2 to 2 are missing");
}

TEST_F(AuditStoreTest, ListingFiltersByKindTimeAndPagesBothWays) {
    Store& store = open();
    store.append_audit(event("job.created", "job:1"), 100);
    store.append_audit(event("run.finished", "run:1"), 200);
    store.append_audit(event("job.created", "job:2"), 300);
    store.append_audit(event("run.finished", "run:2"), 400);

    const auto newest = rows(AuditQuery{.limit = 2});
    ASSERT_EQ(newest.size(), 2u);
    EXPECT_EQ(newest[0].id, 4);
    EXPECT_EQ(newest[1].id, 3);
    const auto older = rows(AuditQuery{.before_id = 3, .limit = 2});
    ASSERT_EQ(older.size(), 2u);
    EXPECT_EQ(older[0].id, 2);

    const auto created = rows(AuditQuery{.oldest_first = true, .kind = "job.created"});
    ASSERT_EQ(created.size(), 2u);
    EXPECT_EQ(created[0].subject, "job:1");
    EXPECT_EQ(created[1].subject, "job:2");

    const auto recent = rows(AuditQuery{.oldest_first = true, .after_id = 1, .since_ms = 300});
    ASSERT_EQ(recent.size(), 2u);
    EXPECT_EQ(recent[0].id, 3);
}

TEST_F(AuditStoreTest, ConcurrentAppendsFromSeveralThreadsFormOneChain) {
    Store& store = open();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&store, t] {
            for (int i = 0; i < 50; ++i)
                store.append_audit(event("job.created", "job:" + std::to_string(t * 100 + i)), i);
        });
    }
    for (auto& thread : threads) thread.join();
    const auto verdict = verify();
    EXPECT_EQ(verdict.broken_row, 0) << verdict.problem;
    EXPECT_EQ(verdict.rows, 200);
}

TEST_F(AuditStoreTest, TokensAreSavedAndComeBackInTheSnapshot) {
    Store& store = open();
    ApiTokenRecord token{.name = "ci",
                         .identity = "slack:U1",
                         .created_by = "token:admin",
                         .secret_sha256 = std::string(64, 'a'),
                         .created_at_ms = 10,
                         .expires_at_ms = 20};
    store.save_token(token);
    token.revoked_at_ms = 15;
    store.save_token(token);  // by name: replaces
    open();
    auto snapshot = store_->load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
    ASSERT_EQ(snapshot->tokens.size(), 1u);
    EXPECT_EQ(snapshot->tokens[0].identity, "slack:U1");
    EXPECT_EQ(snapshot->tokens[0].secret_sha256, std::string(64, 'a'));
    EXPECT_EQ(snapshot->tokens[0].revoked_at_ms, 15);
}

TEST_F(AuditStoreTest, MigrationsReservedForLaterAreAppliedWhenTheyArrive) {
    open();
    store_.reset();
    {
        // A database that skipped a number (as one made before 5 and 6 were merged).
        SQLite::Database db(path_, SQLite::OPEN_READWRITE);
        db.exec("DELETE FROM schema_version WHERE version = 4");
        db.exec("DROP TABLE audit");
    }
    open().append_audit(event("controller.started", "controller"), 1);
    EXPECT_EQ(rows().size(), 1u);
}

}  // namespace
}  // namespace hostline::controller
