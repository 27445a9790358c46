// The controller's agent keys on disk: accepted, pending and revoked, and enrollment tokens.
#include "controller/agents/key_directory.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/transport/curve_keys.hpp"
#include "controller/agents/enrollment_tokens.hpp"

namespace hostline::controller {
namespace {

using State = transport::KeyStatus::State;

class KeyDirectoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("hostline-keys-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string key() { return transport::generate_key_pair()->public_key; }

    std::filesystem::path dir_;
};

TEST_F(KeyDirectoryTest, APendingKeyIsUnknownUntilAcceptedAndSurvivesARestart) {
    std::string k = key();
    {
        KeyDirectory keys(dir_.string());
        EXPECT_EQ(keys.status_of(k).state, State::unknown);
        ASSERT_TRUE(keys.add_pending("web-01", k).value());
        EXPECT_FALSE(keys.add_pending("web-01", k).value()) << "already pending: not new";
        EXPECT_EQ(keys.status_of(k).state, State::unknown) << "pending is not accepted";
    }
    KeyDirectory keys(dir_.string());  // a restart
    auto listed = keys.keys();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].state, AgentKey::State::pending);
    EXPECT_EQ(listed[0].fingerprint, key_fingerprint(k));
    auto accepted = keys.accept_pending("web-01");
    ASSERT_TRUE(accepted.ok()) << accepted.error().message;
    auto status = keys.status_of(k);
    EXPECT_EQ(status.state, State::accepted);
    EXPECT_EQ(status.agent, "web-01");
    EXPECT_TRUE(std::filesystem::exists(dir_ / "web-01.pub"));
}

TEST_F(KeyDirectoryTest, ARevokedKeyStaysRevokedAcrossARestart) {
    std::string k = key();
    {
        KeyDirectory keys(dir_.string());
        ASSERT_TRUE(keys.accept("web-01", k).ok());
        auto revoked = keys.revoke("web-01");
        ASSERT_TRUE(revoked.ok()) << revoked.error().message;
        EXPECT_EQ(keys.status_of(k).state, State::revoked);
        EXPECT_FALSE(keys.accept("web-01", k).ok()) << "a revoked key cannot come back";
    }
    KeyDirectory keys(dir_.string());
    EXPECT_EQ(keys.status_of(k).state, State::revoked);
    EXPECT_FALSE(keys.is_accepted("web-01"));
    // The name is free again, for another key.
    EXPECT_TRUE(keys.accept("web-01", key()).ok());
}

TEST_F(KeyDirectoryTest, ATakenNameCannotBeClaimedByAnotherKey) {
    KeyDirectory keys(dir_.string());
    std::string first = key(), second = key();
    ASSERT_TRUE(keys.accept("web-01", first).ok());
    auto pending = keys.add_pending("web-01", second);
    ASSERT_FALSE(pending.ok());
    EXPECT_EQ(pending.error().message.rfind("the name web-01 is already taken by another agent", 0),
              0u)
        << pending.error().message;
    EXPECT_FALSE(keys.accept("web-01", second).ok());
    EXPECT_EQ(keys.status_of(first).agent, "web-01");
    EXPECT_EQ(keys.status_of(second).state, State::unknown);
    EXPECT_FALSE(keys.add_pending("../etc", second).ok()) << "names are checked";
}

TEST_F(KeyDirectoryTest, AKeyCopiedInByHandIsAccepted) {
    KeyDirectory keys(dir_.string());
    std::string k = key();
    std::ofstream(dir_ / "db-01.pub") << k << "\n";
    EXPECT_EQ(keys.status_of(k).agent, "db-01");
}

TEST(EnrollmentTokensTest, ATokenIsUsedUpAndExpires) {
    auto path =
        std::filesystem::temp_directory_path() / ("hostline-tokens-" + std::to_string(::getpid()));
    std::filesystem::remove(path);
    EnrollmentTokens tokens(path.string());
    auto created = tokens.create({{"role", "web"}}, 60000, 1, 1000);
    ASSERT_TRUE(created.ok()) << created.error().message;
    std::string secret = created->first;
    std::ifstream file(path);
    std::string text((std::istreambuf_iterator<char>(file)), {});
    EXPECT_EQ(text.find(secret), std::string::npos) << "only a hash of the secret is stored";

    EnrollmentTokens reloaded(path.string());  // a restart
    ASSERT_TRUE(reloaded.load().ok());
    auto grant = reloaded.redeem(secret, 2000);
    ASSERT_TRUE(grant.ok()) << grant.error().message;
    EXPECT_EQ(grant->labels.at("role"), "web");
    EXPECT_EQ(reloaded.redeem(secret, 2000).error().message,
              "the enrollment token was already used");
    auto later = reloaded.create({}, 60000, 1, 1000);
    EXPECT_EQ(reloaded.redeem(later->first, 61001).error().message,
              "the enrollment token has expired");
    EXPECT_EQ(reloaded.redeem(std::string(64, 'f'), 2000).error().message,
              "the enrollment token is not known to this controller");
    EXPECT_FALSE(reloaded.create({{"bad key", "x"}}, 60000, 1, 1000).ok());
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace hostline::controller
