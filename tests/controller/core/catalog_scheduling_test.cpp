// A catalog command's scheduling keys (docs/chat.md, the catalog; docs/scheduling.md):
// concurrency with on_busy, and retries with retry_on and retry_backoff, as loaded or refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "controller/catalog/catalog.hpp"

namespace hostline::controller {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class CatalogScheduling : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "hostline-catsched-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { fs::remove_all(dir_); }

    Result<Catalog> load(const std::string& keys) {
        std::ofstream(dir_ + "/c.toml") << "[[command]]\nname = \"restart-nginx\"\n"
                                           "summary = \"Restart nginx\"\n"
                                           "run = [\"systemctl\", \"restart\", \"nginx\"]\n"
                                        << keys;
        return Catalog::load(dir_);
    }

    std::string dir_;
};

TEST_F(CatalogScheduling, WithoutTheKeysACommandHasNoCapAndNoRetries) {
    auto catalog = load("");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    CommandRules rules = catalog->find("restart-nginx")->rules();
    EXPECT_EQ(rules.concurrency, 0);
    EXPECT_EQ(rules.on_busy, OnBusy::wait);
    EXPECT_EQ(rules.retry.retries, 0);
}

TEST_F(CatalogScheduling, TheKeysAreLoaded) {
    auto catalog = load(
        "concurrency = 1\non_busy = \"refuse\"\nretries = 3\nretry_on = [\"lost\", \"timed_out\"]\n"
        "retry_backoff = \"30s\"\n");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    CommandRules rules = catalog->find("restart-nginx")->rules();
    EXPECT_EQ(rules.concurrency, 1);
    EXPECT_EQ(rules.on_busy, OnBusy::refuse);
    EXPECT_EQ(rules.retry.retries, 3);
    EXPECT_EQ(rules.retry.retry_on, (std::set<RunState>{RunState::lost, RunState::timed_out}));
    EXPECT_EQ(rules.retry.backoff, 30s);
}

TEST_F(CatalogScheduling, RetriesAloneRetryEveryFailureAfterTenSeconds) {
    auto catalog = load("retries = 2\n");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    const RetryPolicy& retry = catalog->find("restart-nginx")->retry;
    EXPECT_EQ(retry.retry_on,
              (std::set<RunState>{RunState::lost, RunState::timed_out, RunState::failed}));
    EXPECT_EQ(retry.backoff, 10s);
}

TEST_F(CatalogScheduling, BadValuesAreRefusedWithTheKeyAndWhy) {
    struct Case {
        const char* keys;
        const char* says;
    };
    for (const Case& c : {
             Case{"concurrency = 1\non_busy = \"queue\"\n",
                  "on_busy: must be \"wait\" or \"refuse\""},
             Case{"on_busy = \"refuse\"\n", "on_busy: needs concurrency"},
             Case{"retries = 11\n", "retries"},
             Case{"retries = -1\n", "retries"},
             Case{"retries = 1\nretry_on = [\"cancelled\"]\n", "'cancelled' is not one of"},
             Case{"retries = 1\nretry_on = []\n", "retry_on: must name at least one state"},
             Case{"retries = 1\nretry_on = \"failed\"\n", "retry_on: must be an array of strings"},
             Case{"retries = 1\nretry_backoff = \"soon\"\n", "retry_backoff"},
             Case{"retry_on = [\"failed\"]\n", "retry_on: needs retries"},
             Case{"retry_backoff = \"5s\"\n", "retry_backoff: needs retries"},
         }) {
        auto catalog = load(c.keys);
        ASSERT_FALSE(catalog.ok()) << c.keys;
        EXPECT_THAT(catalog.error().message, HasSubstr(c.says)) << c.keys;
    }
}

}  // namespace
}  // namespace hostline::controller
