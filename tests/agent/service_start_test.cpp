// Starting the agent's service after enrollment, with a recording systemctl: a script that
// writes each argv it is run with to a file and plays a unit that is active or not.
#include "agent/service_start.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hostline::agent {
namespace {

namespace fs = std::filesystem;

class ServiceStart : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "hostline-systemctl-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
    }
    void TearDown() override { fs::remove_all(dir_); }

    // A systemctl that records its arguments, answers is-active with is_active_status, and
    // fails `enable` with fail_enable's text (if any).
    ServiceControl fake_systemctl(int is_active_status, const std::string& fail_enable = "") {
        const std::string script = dir_ + "/systemctl";
        std::ofstream(script) << "#!/bin/sh\n"
                              << "echo \"$*\" >> '" << record() << "'\n"
                              << "case \"$1\" in\n"
                              << "  is-active) exit " << is_active_status << ";;\n"
                              << (fail_enable.empty()
                                      ? ""
                                      : "  enable) echo '" + fail_enable + "' >&2; exit 1;;\n")
                              << "esac\nexit 0\n";
        ::chmod(script.c_str(), 0755);
        return ServiceControl{.systemctl = script, .systemd_running = true};
    }

    std::string record() const { return dir_ + "/argv.log"; }
    std::string recorded() const {
        std::ifstream in(record());
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    std::string dir_;
};

TEST_F(ServiceStart, TheRealSystemctlAndSystemdAreTheDefaults) {
    ServiceControl defaults;
    EXPECT_EQ(defaults.systemctl, "/bin/systemctl");
    EXPECT_EQ(defaults.unit, "hostline-agent.service");
    EXPECT_EQ(defaults.systemd_running, fs::is_directory("/run/systemd/system"))
        << "sd_booted(): systemd creates /run/systemd/system";
}

TEST_F(ServiceStart, AnInactiveUnitIsEnabledAndStartedAtOnce) {
    auto started = start_agent_service(fake_systemctl(3), "/etc/hostline/agent.toml");
    ASSERT_TRUE(started.ok()) << started.error().message;
    EXPECT_EQ(recorded(),
              "is-active --quiet hostline-agent.service\n"
              "enable --now hostline-agent.service\n");
    EXPECT_EQ(*started,
              "started hostline-agent.service and enabled it at boot (systemctl status "
              "hostline-agent.service)");
}

TEST_F(ServiceStart, AnActiveUnitIsRestartedSoThatItReadsTheEnrollment) {
    auto started = start_agent_service(fake_systemctl(0), "/etc/hostline/agent.toml");
    ASSERT_TRUE(started.ok()) << started.error().message;
    EXPECT_EQ(recorded(),
              "is-active --quiet hostline-agent.service\n"
              "enable hostline-agent.service\n"
              "restart hostline-agent.service\n");
    EXPECT_NE(started->find("restarted hostline-agent.service"), std::string::npos) << *started;
}

TEST_F(ServiceStart, AFailureSaysWhatSystemctlSaidAndItsExitStatus) {
    ServiceControl control = fake_systemctl(
        3, "Failed to enable unit: Unit file hostline-agent.service does not exist.");
    auto started = start_agent_service(control, "/etc/hostline/agent.toml");
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.error().message,
              "`" + control.systemctl +
                  " enable --now hostline-agent.service` failed (exit status 1): Failed to enable "
                  "unit: Unit file hostline-agent.service does not exist.");
}

TEST_F(ServiceStart, ASystemctlThatCannotRunIsAnError) {
    ServiceControl control{.systemctl = dir_ + "/no-such-systemctl", .systemd_running = true};
    auto started = start_agent_service(control, "/etc/hostline/agent.toml");
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.error().message,
              "cannot run " + control.systemctl + ": No such file or directory");
}

TEST_F(ServiceStart, WithoutSystemdNothingRunsAndItSaysHowToStartTheAgent) {
    ServiceControl control = fake_systemctl(3);
    control.systemd_running = false;
    auto started = start_agent_service(control, "/srv/agent.toml");
    ASSERT_TRUE(started.ok()) << started.error().message;
    EXPECT_EQ(*started,
              "systemd does not run on this host: start the agent yourself, as root (or as the "
              "user that owns its state_dir): hostline-agent --config /srv/agent.toml");
    EXPECT_FALSE(fs::exists(record())) << "systemctl is not run";
}

}  // namespace
}  // namespace hostline::agent
