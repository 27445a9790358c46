#include "common/transport/curve_keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace hostline::transport {
namespace {

class CurveKeysTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-keys-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 0777;
}

// The fingerprint is the first 8 bytes of the key's SHA-256 (FIPS 180-2's "abc" vector), as
// it was with OpenSSL: names logged and shown before the switch to libsodium still match.
TEST(KeyFingerprint, IsTheFirstEightBytesOfTheSha256OfTheKey) {
    EXPECT_EQ(key_fingerprint("abc"), "SHA256:ba7816bf8f01cfea");
    EXPECT_EQ(key_fingerprint(""), "SHA256:e3b0c44298fc1c14");
}

TEST_F(CurveKeysTest, CreatesAPairWithAPrivateSecretKeyAndKeepsIt) {
    auto first = load_or_create_key_pair(dir_ + "/state", "agent");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(is_curve_key(first->public_key));
    EXPECT_TRUE(is_curve_key(first->secret_key));
    EXPECT_EQ(mode_of(dir_ + "/state/agent.key"), 0600u);
    EXPECT_EQ(mode_of(dir_ + "/state"), 0700u);
    auto public_key = read_public_key(dir_ + "/state/agent.pub");
    ASSERT_TRUE(public_key.ok());
    EXPECT_EQ(*public_key, first->public_key);

    auto again = load_or_create_key_pair(dir_ + "/state", "agent");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->secret_key, first->secret_key) << "a restart keeps its identity";
    EXPECT_EQ(again->public_key, first->public_key);
}

TEST_F(CurveKeysTest, RefusesASecretKeyOthersCanRead) {
    ASSERT_TRUE(load_or_create_key_pair(dir_, "agent").ok());
    ::chmod((dir_ + "/agent.key").c_str(), 0644);
    auto loaded = load_or_create_key_pair(dir_, "agent");
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message.find("readable by others; chmod 600"), std::string::npos);
}

TEST_F(CurveKeysTest, RejectsFilesThatAreNotKeys) {
    std::ofstream(dir_ + "/bad.pub") << "not a key\n";
    auto key = read_public_key(dir_ + "/bad.pub");
    ASSERT_FALSE(key.ok());
    EXPECT_NE(key.error().message.find("not a CURVE public key"), std::string::npos);
    EXPECT_FALSE(read_public_key(dir_ + "/missing.pub").ok());
    EXPECT_FALSE(is_curve_key("short"));
    EXPECT_FALSE(is_curve_key(std::string(40, ' ')));
}

}  // namespace
}  // namespace hostline::transport
