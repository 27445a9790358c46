// The enrollment kept in the state directory (STATE_DIR/enrollment.toml) and how the agent's
// config loader combines it with agent.toml: agent.toml's own [controller] wins; without one the
// enrollment gives the controller, the name unless agent.toml sets one, and its labels under
// agent.toml's (agent.toml wins on the same key).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/agent_config.hpp"
#include "agent/enrollment_file.hpp"

namespace hostline::agent {
namespace {

namespace fs = std::filesystem;

const char* kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const char* kOtherKey = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

class EnrollmentConfig : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "hostline-enrollment-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
        state_dir_ = dir_ + "/state";
        fs::create_directories(state_dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // agent.toml with this text after an [agent] table that points at the test's state dir.
    std::string agent_toml(const std::string& agent_keys, const std::string& rest = "") {
        std::string path = dir_ + "/agent.toml";
        std::ofstream(path) << "[agent]\nstate_dir = \"" << state_dir_ << "\"\n"
                            << agent_keys << rest;
        return path;
    }

    Enrollment enrollment() {
        return Enrollment{
            "web-07", {{"role", "web"}, {"env", "prod"}}, "tcp://ctl.example:7420", kKey};
    }

    std::string dir_;
    std::string state_dir_;
};

TEST_F(EnrollmentConfig, TheFileIsWrittenForItsOwnerOnlyAndReadBack) {
    ASSERT_TRUE(write_enrollment(state_dir_, enrollment()).ok());
    struct stat st {};
    ASSERT_EQ(::stat(enrollment_path(state_dir_).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_FALSE(fs::exists(enrollment_path(state_dir_) + ".tmp")) << "written through a rename";

    auto read = read_enrollment(state_dir_);
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(read->has_value());
    EXPECT_EQ((*read)->name, "web-07");
    EXPECT_EQ((*read)->labels,
              (std::map<std::string, std::string>{{"env", "prod"}, {"role", "web"}}));
    EXPECT_EQ((*read)->controller_endpoint, "tcp://ctl.example:7420");
    EXPECT_EQ((*read)->controller_public_key, kKey);
}

TEST_F(EnrollmentConfig, NoFileIsNoEnrollment) {
    auto read = read_enrollment(state_dir_);
    ASSERT_TRUE(read.ok()) << read.error().message;
    EXPECT_FALSE(read->has_value());
}

TEST_F(EnrollmentConfig, AFileOthersMayWriteIsRefused) {
    ASSERT_TRUE(write_enrollment(state_dir_, enrollment()).ok());
    ::chmod(enrollment_path(state_dir_).c_str(), 0622);
    auto read = read_enrollment(state_dir_);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().message,
              enrollment_path(state_dir_) +
                  ": writable by others, who could point this agent at another controller; chmod "
                  "600 it");
}

TEST_F(EnrollmentConfig, BadValuesInTheFileNameItAndTheKey) {
    std::ofstream(enrollment_path(state_dir_))
        << "[agent]\nname = \"bad name\"\ncolour = \"red\"\n[controller]\nendpoint = \"http://x\"\n"
           "public_key = \"short\"\n";
    ::chmod(enrollment_path(state_dir_).c_str(), 0600);
    auto read = read_enrollment(state_dir_);
    ASSERT_FALSE(read.ok());
    const std::string& m = read.error().message;
    const std::string file = enrollment_path(state_dir_) + ": ";
    EXPECT_NE(m.find(file + "agent.name: must be 1-63 letters"), std::string::npos) << m;
    EXPECT_NE(m.find(file + "controller.endpoint: must be tcp://HOST:PORT"), std::string::npos)
        << m;
    EXPECT_NE(m.find(file + "controller.public_key: must be the controller's CURVE public key"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(file + "agent.colour: is not a known setting"), std::string::npos) << m;
}

TEST_F(EnrollmentConfig, WithoutAControllerSectionTheEnrollmentGivesControllerNameAndLabels) {
    ASSERT_TRUE(write_enrollment(state_dir_, enrollment()).ok());
    const std::string path = agent_toml("", "[agent.labels]\nenv = \"staging\"\nrack = \"r1\"\n");
    auto c = load_agent_config(path);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->controller_endpoint, "tcp://ctl.example:7420");
    EXPECT_EQ(c->controller_public_key, kKey);
    EXPECT_EQ(c->controller_source, enrollment_path(state_dir_));
    EXPECT_EQ(c->name, "web-07");
    EXPECT_EQ(c->labels, (std::map<std::string, std::string>{
                             {"env", "staging"}, {"rack", "r1"}, {"role", "web"}}))
        << "the token's labels under agent.toml's, agent.toml winning on env";
}

TEST_F(EnrollmentConfig, AgentTomlsNameWinsOverTheEnrollments) {
    ASSERT_TRUE(write_enrollment(state_dir_, enrollment()).ok());
    auto c = load_agent_config(agent_toml("name = \"web-99\"\n"));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->name, "web-99");
    EXPECT_EQ(c->controller_endpoint, "tcp://ctl.example:7420");
}

TEST_F(EnrollmentConfig, AgentTomlsOwnControllerWinsAndTheEnrollmentIsUnused) {
    ASSERT_TRUE(write_enrollment(state_dir_, enrollment()).ok());
    const std::string path = agent_toml(
        "", std::string("[controller]\nendpoint = \"tcp://other:7420\"\npublic_key = \"") +
                kOtherKey + "\"\n");
    auto c = load_agent_config(path);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->controller_endpoint, "tcp://other:7420");
    EXPECT_EQ(c->controller_public_key, kOtherKey);
    EXPECT_EQ(c->controller_source, path);
    EXPECT_NE(c->name, "web-07") << "nothing of the enrollment is used";
    EXPECT_EQ(c->labels.count("role"), 0u);
}

TEST_F(EnrollmentConfig, WithNeitherTheAgentSaysToEnroll) {
    const std::string path = agent_toml("");
    auto c = load_agent_config(path);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message, path + ": not enrolled (no [controller] section here, and no " +
                                     enrollment_path(state_dir_) +
                                     "): run hostline-agent enroll TOKEN, or set [controller] in "
                                     "agent.toml");
}

TEST_F(EnrollmentConfig, ABrokenEnrollmentStopsTheAgentWithItsReason) {
    std::ofstream(enrollment_path(state_dir_)) << "[controller\n";
    ::chmod(enrollment_path(state_dir_).c_str(), 0600);
    auto c = load_agent_config(agent_toml(""));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find(enrollment_path(state_dir_)), std::string::npos)
        << c.error().message;
}

TEST_F(EnrollmentConfig, ReadingAgentTomlAloneSaysWhatItNames) {
    auto bare = read_agent_toml(agent_toml(""));
    ASSERT_TRUE(bare.ok()) << bare.error().message;
    EXPECT_FALSE(bare->names_agent);
    EXPECT_FALSE(bare->names_controller);
    EXPECT_EQ(bare->config.state_dir, state_dir_);

    auto full = read_agent_toml(agent_toml(
        "name = \"db-1\"\n",
        std::string("[controller]\nendpoint = \"tcp://c:1\"\npublic_key = \"") + kKey + "\"\n"));
    ASSERT_TRUE(full.ok()) << full.error().message;
    EXPECT_TRUE(full->names_agent);
    EXPECT_TRUE(full->names_controller);

    auto empty_section = read_agent_toml(agent_toml("", "[controller]\n"));
    ASSERT_FALSE(empty_section.ok()) << "an empty [controller] is agent.toml's, and incomplete";
    EXPECT_NE(empty_section.error().message.find("controller.endpoint: must be set"),
              std::string::npos)
        << empty_section.error().message;
}

}  // namespace
}  // namespace hostline::agent
