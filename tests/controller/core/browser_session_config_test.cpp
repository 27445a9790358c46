// [http] session_idle, session_max and secure_cookies: the browser sessions' keys.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "controller/config/controller_config.hpp"

namespace hostline::controller {
namespace {

class BrowserSessionConfigTest : public ::testing::Test {
  protected:
    Result<ControllerConfig> load(const std::string& text) {
        std::ofstream(path_) << text;
        return load_controller_config(path_);
    }
    void TearDown() override { std::remove(path_.c_str()); }
    std::string path_ =
        "/tmp/hostline-browser-session-config-test-" + std::to_string(::getpid()) + ".toml";
};

TEST_F(BrowserSessionConfigTest, DefaultsAreTwelveHoursIdleSevenDaysInAllAndNoSecureFlag) {
    auto c = load("");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->session_idle_ms, 12LL * 3600 * 1000);
    EXPECT_EQ(c->session_max_ms, 7LL * 24 * 3600 * 1000);
    EXPECT_FALSE(c->secure_cookies);
}

TEST_F(BrowserSessionConfigTest, ReadsTheKeys) {
    auto c = load("[http]\nsession_idle = \"30m\"\nsession_max = \"1d\"\nsecure_cookies = true\n");
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->session_idle_ms, 30LL * 60 * 1000);
    EXPECT_EQ(c->session_max_ms, 24LL * 3600 * 1000);
    EXPECT_TRUE(c->secure_cookies);
}

TEST_F(BrowserSessionConfigTest, RefusesValuesThatMakeNoSense) {
    for (const auto& [text, key] :
         {std::pair{"[http]\nsession_idle = \"10s\"\n", "http.session_idle"},
          std::pair{"[http]\nsession_idle = 60\n", "http.session_idle"},
          std::pair{"[http]\nsession_idle = \"2h\"\nsession_max = \"1h\"\n", "http.session_max"},
          std::pair{"[http]\nsecure_cookies = \"yes\"\n", "http.secure_cookies"}}) {
        auto c = load(text);
        ASSERT_FALSE(c.ok()) << text;
        EXPECT_NE(c.error().message.find(key), std::string::npos) << c.error().message;
    }
}

}  // namespace
}  // namespace hostline::controller
