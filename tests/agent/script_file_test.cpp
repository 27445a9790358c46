// ScriptFiles with the real ProcessRunner: a catalog script run as the agent runs it.
#include "agent/runner/script_file.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "agent/runner/process_runner.hpp"
#include "agent/state_dir.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A directory for one test (searchable by others, like a state dir a run user must reach),
// removed afterwards.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "hostline-script-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
        ::chmod(path_.c_str(), 0711);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

struct Finished {
    std::string out, err;
    std::optional<Exit> exit;
};

// Runs argv (argv[1] being the script's path) the way the agent does: the script's file is
// removed in on_exit. Returns what came back.
Finished run_script(ScriptFiles& scripts, std::uint64_t run_id, std::vector<std::string> argv,
                    const std::string& user = "") {
    Finished done;
    ProcessRunner runner(
        ProcessRunner::Listener{[&](std::uint64_t, Stream stream, std::string_view bytes) {
                                    (stream == Stream::out ? done.out : done.err).append(bytes);
                                },
                                [&](std::uint64_t id, const Exit& exit) {
                                    scripts.remove(id);
                                    done.exit = exit;
                                }});
    RunSpec spec;
    spec.run_id = run_id;
    spec.argv = std::move(argv);
    spec.user = user;
    auto started = runner.start(spec);
    EXPECT_TRUE(started.ok()) << (started ? "" : started.error().message);
    auto give_up = Clock::now() + 20s;
    while (started && !done.exit && Clock::now() < give_up) {
        std::vector<pollfd> fds;
        runner.add_poll_fds(fds);
        ::poll(fds.data(), fds.size(), 50);
        runner.on_poll(fds);
    }
    EXPECT_TRUE(done.exit.has_value()) << "the script did not end";
    return done;
}

std::size_t files_in(const fs::path& dir) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st.st_mode & 07777;
}

constexpr const char* kEchoScript = "printf '%s\\n' \"$0\" \"$@\"\n";

TEST(Sha256Test, MatchesTheFips180Vectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ScriptFilesTest, ScriptRunsFromAPrivateTempFileThatIsRemovedAfterwards) {
    TempDir state;
    const fs::path dir = state.path() / "scripts";
    ScriptFiles scripts(dir.string());
    ASSERT_TRUE(scripts.prepare().ok());
    EXPECT_EQ(mode_of(dir.string()), 0711u);

    auto path = scripts.write(7, kEchoScript, sha256_hex(kEchoScript), "");
    ASSERT_TRUE(path.ok()) << path.error().message;
    EXPECT_EQ(fs::path(*path).parent_path(), dir);
    EXPECT_EQ(mode_of(*path), 0700u);
    struct stat st {};
    ASSERT_EQ(::stat(path->c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::geteuid());

    const std::string path_text = *path;
    Finished done =
        run_script(scripts, 7, {"/bin/sh", path_text, "a b; rm -rf /", "$HOME", "", "--x"});
    ASSERT_TRUE(done.exit);
    EXPECT_EQ(done.exit->status, Exit::Status::exited) << done.exit->error;
    EXPECT_EQ(done.exit->exit_code, 0) << done.err;
    // $0 is the private copy; every argument arrives as one argv entry, unexpanded.
    EXPECT_EQ(done.out, path_text + "\na b; rm -rf /\n$HOME\n\n--x\n");
    EXPECT_FALSE(fs::exists(path_text));
    EXPECT_EQ(files_in(dir), 0u);
}

TEST(ScriptFilesTest, ScriptWithAWrongHashIsRefused) {
    TempDir state;
    const fs::path dir = state.path() / "scripts";
    ScriptFiles scripts(dir.string());
    ASSERT_TRUE(scripts.prepare().ok());

    const std::string other = sha256_hex("echo something else\n");
    auto wrong = scripts.write(1, kEchoScript, other, "");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().message, "the script does not match its sha256 (expected " + other +
                                         ", got " + sha256_hex(kEchoScript) + ")");

    // What a controller that lost the content after a restart would send.
    auto missing = scripts.write(2, "", other, "");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              "the run names a script (sha256 " + other + ") but carries no content");

    auto no_hash = scripts.write(3, kEchoScript, "", "");
    EXPECT_FALSE(no_hash.ok());
    EXPECT_EQ(files_in(dir), 0u) << "a refused script left a file behind";
}

TEST(ScriptFilesTest, LeftoversFromAnEarlierAgentAreRemovedAtStart) {
    TempDir state;
    const fs::path dir = state.path() / "scripts";
    {
        ScriptFiles before(dir.string());
        ASSERT_TRUE(before.prepare().ok());
    }
    std::ofstream(dir / "run-5-AbC123") << "echo left over\n";
    ::chmod(dir.c_str(), 0755);

    ScriptFiles scripts(dir.string());
    ASSERT_TRUE(scripts.prepare().ok());
    EXPECT_EQ(files_in(dir), 0u);
    EXPECT_EQ(mode_of(dir.string()), 0711u);

    // And the files of runs still going are removed when the agent goes away.
    {
        ScriptFiles dying(dir.string());
        ASSERT_TRUE(dying.write(1, kEchoScript, sha256_hex(kEchoScript), "").ok());
        EXPECT_EQ(files_in(dir), 1u);
    }
    EXPECT_EQ(files_in(dir), 0u);
}

TEST(ScriptFilesTest, AScriptForAnotherUserIsTheirsAndReadOnly) {
    TempDir state;
    const fs::path dir = state.path() / "scripts";
    ScriptFiles scripts(dir.string());
    ASSERT_TRUE(scripts.prepare().ok());

    if (::geteuid() != 0) {
        auto refused = scripts.write(1, kEchoScript, sha256_hex(kEchoScript), "nobody");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().message,
                  "cannot run as user 'nobody': the agent is not running as root");
        return;
    }
    passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;

    auto unknown = scripts.write(1, kEchoScript, sha256_hex(kEchoScript), "hostline-no-such");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().message, "unknown user 'hostline-no-such'");

    const std::string script = "id -u\nprintf '%s\\n' \"$@\"\n";
    auto path = scripts.write(2, script, sha256_hex(script), "nobody");
    ASSERT_TRUE(path.ok()) << path.error().message;
    struct stat st {};
    ASSERT_EQ(::stat(path->c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, nobody_uid);
    EXPECT_EQ(st.st_mode & 07777, 0500u);

    const std::string path_text = *path;
    Finished done = run_script(scripts, 2, {"/bin/sh", path_text, "x y"}, "nobody");
    ASSERT_TRUE(done.exit);
    EXPECT_EQ(done.exit->exit_code, 0) << done.err << done.exit->error;
    EXPECT_EQ(done.out, std::to_string(nobody_uid) + "\nx y\n");
    EXPECT_FALSE(fs::exists(path_text));
}

// The agent's own layout: scripts/ inside the state dir, beside the secret key.
TEST(ScriptFilesTest, ARunUserReachesItsScriptInTheStateDirButNotTheSecretKey) {
    TempDir parent;  // searchable, like /var/lib
    const fs::path state = parent.path() / "state";
    // An earlier agent left its state dir private (0700), with its key pair in it.
    ASSERT_TRUE(transport::load_or_create_key_pair(state.string(), "agent").ok());
    ASSERT_EQ(mode_of(state.string()), 0700u);

    ASSERT_TRUE(prepare_state_dir(state.string()).ok());
    EXPECT_EQ(mode_of(state.string()), 0711u);
    auto keys = transport::load_or_create_key_pair(state.string(), "agent");
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    EXPECT_EQ(mode_of((state / "agent.key").string()), 0600u);
    ScriptFiles scripts((state / "scripts").string());
    ASSERT_TRUE(scripts.prepare().ok());
    if (::geteuid() != 0) {  // the state dir is still prepared; another user is refused
        auto refused = scripts.write(1, "true\n", sha256_hex("true\n"), "nobody");
        ASSERT_FALSE(refused.ok());
        EXPECT_EQ(refused.error().message,
                  "cannot run as user 'nobody': the agent is not running as root");
        return;
    }
    passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;

    const std::string script = "id -u\nprintf '%s\\n' \"$@\"\n";
    auto path = scripts.write(1, script, sha256_hex(script), "nobody");
    ASSERT_TRUE(path.ok()) << path.error().message;
    const std::string path_text = *path;
    Finished done = run_script(scripts, 1, {"/bin/sh", path_text, "x y"}, "nobody");
    ASSERT_TRUE(done.exit);
    EXPECT_EQ(done.exit->exit_code, 0) << done.err << done.exit->error;
    EXPECT_EQ(done.out, std::to_string(nobody_uid) + "\nx y\n");
    EXPECT_FALSE(fs::exists(path_text));
    EXPECT_EQ(files_in(state / "scripts"), 0u);

    // The same user can neither read the secret key nor list what else is there.
    Finished key = run_script(scripts, 2, {"/bin/cat", (state / "agent.key").string()}, "nobody");
    ASSERT_TRUE(key.exit);
    EXPECT_NE(key.exit->exit_code, 0);
    EXPECT_EQ(key.out, "");
    Finished listing = run_script(scripts, 3, {"/bin/ls", state.string()}, "nobody");
    ASSERT_TRUE(listing.exit);
    EXPECT_NE(listing.exit->exit_code, 0);
    EXPECT_EQ(listing.out, "");
}

TEST(ScriptFilesTest, AStateDirThatIsAFileIsAnError) {
    TempDir parent;
    const fs::path state = parent.path() / "state";
    std::ofstream(state) << "not a directory\n";
    auto prepared = prepare_state_dir(state.string());
    ASSERT_FALSE(prepared.ok());
    EXPECT_EQ(prepared.error().message, state.string() + " is not a directory");
}

}  // namespace
}  // namespace hostline::agent
