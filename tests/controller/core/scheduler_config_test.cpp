// [scheduler] in controller.toml (docs/configuration.md, docs/scheduling.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "controller/config/controller_config.hpp"

namespace hostline::controller {
namespace {

class SchedulerConfigKeys : public ::testing::Test {
  protected:
    Result<ControllerConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_controller_config(path_);
    }
    void TearDown() override { std::remove(path_.c_str()); }
    std::string path_ = "/tmp/hostline-scheduler-config-" + std::to_string(::getpid()) + ".toml";
};

TEST_F(SchedulerConfigKeys, NoGlobalCapUnlessOneIsSet) {
    auto none = load("");
    ASSERT_TRUE(none.ok()) << none.error().message;
    EXPECT_EQ(none->max_running_runs, 0u);
    auto capped = load("[scheduler]\nmax_running_runs = 200\n");
    ASSERT_TRUE(capped.ok()) << capped.error().message;
    EXPECT_EQ(capped->max_running_runs, 200u);
}

TEST_F(SchedulerConfigKeys, ANegativeCapOrAnUnknownKeyIsRefused) {
    auto negative = load("[scheduler]\nmax_running_runs = -1\n");
    ASSERT_FALSE(negative.ok());
    EXPECT_THAT(negative.error().message, ::testing::HasSubstr("scheduler.max_running_runs"));
    auto unknown = load("[scheduler]\nmax_runs = 5\n");
    ASSERT_FALSE(unknown.ok());
    EXPECT_THAT(unknown.error().message, ::testing::HasSubstr("scheduler.max_runs"));
}

}  // namespace
}  // namespace hostline::controller
