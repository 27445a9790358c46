#include "controller/catalog/catalog.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "controller/catalog/binding.hpp"

namespace hostline::controller {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class CatalogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "hostline-catalog-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        dir_ = (root_ / "commands.d").string();
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(root_); }

    void write(const std::string& relative, const std::string& text) {
        fs::path path = fs::path(dir_) / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << text;
    }
    Result<Catalog> load() { return Catalog::load(dir_); }
    // Loads one file and returns the command called name; fails the test on any problem.
    const CommandSpec& only(const std::string& text, const std::string& name) {
        write("only.toml", text);
        catalog_ = load();
        if (!catalog_->ok()) ADD_FAILURE() << catalog_->error().message;
        static const CommandSpec kNone;
        const CommandSpec* spec = catalog_->ok() ? catalog_->value().find(name) : nullptr;
        if (spec == nullptr) ADD_FAILURE() << "no command " << name;
        return spec ? *spec : kNone;
    }

    fs::path root_;
    std::string dir_;
    std::optional<Result<Catalog>> catalog_;
};

chat::Token word(std::string text) {
    return {chat::Token::Kind::word, std::move(text), std::nullopt, false};
}
chat::Token option(std::string name, std::optional<std::string> value = std::nullopt) {
    return {chat::Token::Kind::option, std::move(name), std::move(value), false};
}
chat::ParsedCommand command(std::string name, std::vector<chat::Token> tokens,
                            std::optional<std::string> target = "web-01") {
    chat::ParsedCommand parsed;
    parsed.name = std::move(name);
    parsed.tokens = std::move(tokens);
    parsed.target = std::move(target);
    return parsed;
}

const char* kRestart = R"(
[[command]]
name = "restart-service"
summary = "Restart a systemd service"
run = ["systemctl", "restart", "{service}.service", "--force={force}"]
targets = "role=web"

[[command.param]]
name = "service"
pattern = "^[a-z0-9@._-]+$"
required = true
help = "the service to restart"

[[command.param]]
name = "force"
type = "bool"
default = false
)";

TEST_F(CatalogTest, LoadsEveryFieldOfACommand) {
    const CommandSpec& spec = only(R"(
[[command]]
name = "restart-service"
summary = "Restart a systemd service"
help = "Longer text"
run = ["systemctl", "restart", "{service}.service", "--wait={wait}", "{count}", "{force}"]
timeout = "2m"
targets = "role=web"
allowed_targets = "role=web, role=db"
concurrency = 1
env = { LANG = "C" }
cwd = "/"
user = "root"
output_cap = 1048576
channels = ["#ops", "#web"]
permission = "service.restart"
[command.approval]
group = "ops-leads"
count = 2
expiry = "15m"
[[command.param]]
name = "service"
type = "enum"
choices = ["nginx", "postgresql"]
default = "nginx"
help = "the service to restart"
[[command.param]]
name = "count"
type = "int"
min = 1
max = 10000
default = 3
[[command.param]]
name = "force"
type = "bool"
[[command.param]]
name = "wait"
type = "duration"
required = true
)",
                                   "restart-service");
    EXPECT_EQ(spec.summary, "Restart a systemd service");
    EXPECT_EQ(spec.help, "Longer text");
    EXPECT_EQ(spec.run.size(), 6u);
    EXPECT_EQ(spec.timeout, std::chrono::minutes(2));
    EXPECT_EQ(spec.default_target, "role=web");
    ASSERT_TRUE(spec.allowed_targets.has_value());
    EXPECT_TRUE(spec.allowed_targets->matches({"db-01", {{"role", "db"}}}));
    EXPECT_FALSE(spec.allowed_targets->matches({"mail-01", {{"role", "mail"}}}));
    EXPECT_EQ(spec.concurrency, 1);
    EXPECT_EQ(spec.env.at("LANG"), "C");
    EXPECT_EQ(spec.cwd, "/");
    EXPECT_EQ(spec.user, "root");
    EXPECT_EQ(spec.output_cap, 1048576);
    EXPECT_THAT(spec.channels, ElementsAre("#ops", "#web"));
    EXPECT_EQ(spec.permission, "service.restart");
    ASSERT_TRUE(spec.approval.has_value());
    EXPECT_EQ(spec.approval->group, "ops-leads");
    EXPECT_EQ(spec.approval->count, 2);
    EXPECT_EQ(spec.approval->expiry, std::chrono::minutes(15));
    ASSERT_EQ(spec.params.size(), 4u);
    EXPECT_EQ(spec.params[0].name, "service");
    EXPECT_EQ(spec.params[0].type, ParamType::enumeration);
    EXPECT_THAT(spec.params[0].choices, ElementsAre("nginx", "postgresql"));
    EXPECT_EQ(spec.params[0].default_value, "nginx");
    EXPECT_EQ(spec.params[0].help, "the service to restart");
    EXPECT_EQ(spec.params[1].type, ParamType::integer);
    EXPECT_EQ(spec.params[1].min, 1);
    EXPECT_EQ(spec.params[1].max, 10000);
    EXPECT_EQ(spec.params[1].default_value, "3");
    EXPECT_EQ(spec.params[2].type, ParamType::boolean);
    EXPECT_FALSE(spec.params[2].required);
    EXPECT_EQ(spec.params[3].type, ParamType::duration);
    EXPECT_TRUE(spec.params[3].required);
    EXPECT_FALSE(spec.is_script());
}

TEST_F(CatalogTest, PermissionDefaultsToCommandName) {
    const CommandSpec& spec = only(kRestart, "restart-service");
    EXPECT_EQ(spec.permission, "command.restart-service");
    EXPECT_FALSE(spec.timeout.has_value());
    EXPECT_FALSE(spec.approval.has_value());
}

TEST_F(CatalogTest, ErrorsNameFileCommandAndKey) {
    write("web.toml", R"(
[[command]]
name = "restart-service"
summary = "Restart"
run = ["systemctl", "restart", "{service}"]
[[command.param]]
name = "service"
pattern = "^[a-z"
)");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    EXPECT_THAT(catalog.error().message,
                HasSubstr(dir_ + "/web.toml: command 'restart-service': param 'service': "
                                 "pattern: invalid regex"));
}

TEST_F(CatalogTest, AllProblemsAreReportedTogether) {
    write("a.toml", R"(
[[command]]
name = "first"
run = ["true"]
colour = "red"
[[command]]
summary = "no name"
run = ["true"]
)");
    write("b.toml", R"(
[[command]]
name = "second"
summary = "both"
run = ["true"]
script = "x.sh"
[[command]]
name = "third"
summary = "an enum with no choices, and bad values"
run = ["echo", "{mode}"]
timeout = "soon"
targets = "web-* &"
[[command.param]]
name = "mode"
type = "enum"
[[command]]
name = "fourth"
summary = "bad defaults"
run = ["echo", "{n}", "{s}"]
[[command.param]]
name = "n"
type = "int"
max = 5
default = 9
[[command.param]]
name = "s"
pattern = "^[a-z]+$"
default = "UPPER"
)");
    write("c.toml", "not toml at all = = =\n");
    write("d.toml", "[command]\nname = \"single\"\n");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    const std::string& m = catalog.error().message;
    EXPECT_THAT(m, HasSubstr("a.toml: command 'first': summary: is required"));
    EXPECT_THAT(m, HasSubstr("a.toml: command 'first': colour: is not a known setting"));
    EXPECT_THAT(m, HasSubstr("a.toml: command #2: name: is required"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'second': run: give run or script, not both"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'third': param 'mode': choices: is required"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'third': timeout:"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'third': targets: target 'web-* &'"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'fourth': param 'n': default: must be at most 5"));
    EXPECT_THAT(m, HasSubstr("b.toml: command 'fourth': param 's': default: must match"));
    EXPECT_THAT(m, HasSubstr("c.toml:1:"));
    EXPECT_THAT(m, HasSubstr("d.toml: command: must be an array of tables: write [[command]]"));
}

TEST_F(CatalogTest, HostileFilesGetClearErrorsAndNoCatalog) {
    write("nul.toml",
          std::string("[[command]]\nname = \"a\0b\"\nsummary = \"x\"\nrun = [\"true\"]\n", 52));
    write("utf8.toml", "[[command]]\nname = \"ok\"\nsummary = \"\xff\xfe\"\nrun = [\"true\"]\n");
    write("names.toml",
          "[[command]]\nname = \"d\u00e9ploy\"\nsummary = \"x\"\nrun = [\"true\"]\n"
          "[[command]]\nname = \"rm;reboot\"\nsummary = \"x\"\nrun = [\"true\"]\n"
          "[[command]]\nname = \"help\"\nsummary = \"x\"\nrun = [\"true\"]\n"
          "[[command]]\nname = \"" +
              std::string(100 * 1024, 'a') + "\"\nsummary = \"x\"\nrun = [\"true\"]\n");
    write("empty-argv.toml", "[[command]]\nname = \"nothing\"\nsummary = \"x\"\nrun = []\n");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    const std::string& m = catalog.error().message;
    EXPECT_THAT(m, HasSubstr("nul.toml:")) << m;
    EXPECT_THAT(m, HasSubstr("utf8.toml:")) << m;
    EXPECT_THAT(m, HasSubstr("command #1: name: 'd\u00e9ploy' must be lowercase letters")) << m;
    EXPECT_THAT(m, HasSubstr("command #2: name: 'rm;reboot' must be lowercase letters")) << m;
    EXPECT_THAT(m, HasSubstr("command #4: name: '" + std::string(40, 'a') + "…' (102400 bytes)"))
        << m;
    EXPECT_THAT(m, HasSubstr("command 'help': name:")) << m;
    EXPECT_THAT(m, HasSubstr("empty-argv.toml: command 'nothing': run:")) << m;
    EXPECT_LT(m.size(), 4096u) << "a 100 KB name is not echoed back whole";
}

TEST_F(CatalogTest, AnExampleMustRunAsShown) {
    write("logs.toml", R"(
[[command]]
name = "tail-log"
summary = "Tail a log"
run = ["tail", "-n", "{lines}", "{path}"]
example = "/var/log/syslog --lines 100 --on web-01"
[[command.param]]
name = "path"
pattern = "^/var/log/.*$"
required = true
[[command.param]]
name = "lines"
type = "int"
max = 5000
default = 50
[[command]]
name = "bad-example"
summary = "Its example breaks its own rules"
run = ["tail", "-n", "{lines}"]
example = "--lines 9999 --on web-01"
[[command.param]]
name = "lines"
type = "int"
max = 5000
required = true
)");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    EXPECT_THAT(
        catalog.error().message,
        HasSubstr("logs.toml: command 'bad-example': example: --lines must be at most 5000"));
    EXPECT_THAT(catalog.error().message, Not(HasSubstr("tail-log")));
    fs::remove(fs::path(dir_) / "logs.toml");

    const CommandSpec& spec = only(R"(
[[command]]
name = "restart"
summary = "Restart"
run = ["systemctl", "restart", "{service}", "--mode={mode}", "--within={within}", "{retries}"]
targets = "role=web"
[[command.param]]
name = "service"
required = true
[[command.param]]
name = "mode"
type = "enum"
choices = ["graceful", "hard"]
required = true
[[command.param]]
name = "within"
type = "duration"
required = true
[[command.param]]
name = "retries"
type = "int"
min = 2
default = 3
)",
                                   "restart");
    EXPECT_EQ(sample_arguments(spec), "SERVICE graceful 30s");
}

TEST_F(CatalogTest, MissingDirectoryIsAnErrorAndAnEmptyOneIsAnEmptyCatalog) {
    auto empty = load();
    ASSERT_TRUE(empty.ok()) << empty.error().message;
    EXPECT_TRUE(empty->commands().empty());
    auto missing = Catalog::load(dir_ + "/nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_THAT(missing.error().message, HasSubstr(dir_ + "/nope"));
}

TEST_F(CatalogTest, DuplicateNamesAcrossFilesAreAnError) {
    write("a.toml", "[[command]]\nname = \"uptime\"\nsummary = \"a\"\nrun = [\"uptime\"]\n");
    write("b.toml", "[[command]]\nname = \"uptime\"\nsummary = \"b\"\nrun = [\"uptime\"]\n");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    EXPECT_THAT(catalog.error().message,
                HasSubstr(dir_ + "/b.toml: command 'uptime': name: already declared in " + dir_ +
                          "/a.toml"));
}

TEST_F(CatalogTest, CommandsAreSortedAndFound) {
    write("a.toml", "[[command]]\nname = \"zeta\"\nsummary = \"z\"\nrun = [\"true\"]\n");
    write("b.toml", "[[command]]\nname = \"alpha\"\nsummary = \"a\"\nrun = [\"true\"]\n");
    auto catalog = load();
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    ASSERT_EQ(catalog->commands().size(), 2u);
    EXPECT_EQ(catalog->commands()[0].name, "alpha");
    ASSERT_NE(catalog->find("zeta"), nullptr);
    EXPECT_EQ(catalog->find("zeta")->summary, "z");
    EXPECT_EQ(catalog->find("beta"), nullptr);
}

TEST_F(CatalogTest, UnknownPlaceholderIsAnError) {
    write("a.toml", R"(
[[command]]
name = "greet"
summary = "unknown placeholder, unused param"
run = ["echo", "hello-{nmae}"]
[[command.param]]
name = "name"
)");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    const std::string& m = catalog.error().message;
    EXPECT_THAT(m, HasSubstr("command 'greet': run[1]: {nmae} names no param"));
    EXPECT_THAT(m, HasSubstr("command 'greet': param 'name': is never used in run"));
}

TEST_F(CatalogTest, ScriptOutsideTheCatalogIsRefused) {
    std::ofstream(root_ / "outside.sh") << "echo outside\n";
    fs::create_directories(fs::path(dir_) / "scripts");
    fs::create_symlink(root_ / "outside.sh", fs::path(dir_) / "scripts" / "link.sh");
    write("a.toml", R"(
[[command]]
name = "up"
summary = "dot-dot"
script = "../outside.sh"
[[command]]
name = "absolute"
summary = "absolute"
script = "/etc/passwd"
[[command]]
name = "linked"
summary = "a symlink out"
script = "scripts/link.sh"
[[command]]
name = "missing"
summary = "not there"
script = "scripts/missing.sh"
)");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    const std::string& m = catalog.error().message;
    EXPECT_THAT(m, HasSubstr("command 'up': script: '../outside.sh' must be a relative path "
                             "inside the catalog directory"));
    EXPECT_THAT(m, HasSubstr("command 'absolute': script: '/etc/passwd' must be a relative"));
    EXPECT_THAT(m, HasSubstr("command 'linked': script: 'scripts/link.sh' must be a relative"));
    EXPECT_THAT(m, HasSubstr("command 'missing': script: cannot read"));
}

TEST_F(CatalogTest, ScriptContentAndHashAreLoaded) {
    const std::string script = "#!/bin/sh\necho \"$1\"\n";
    write("scripts/echo.sh", script);
    const CommandSpec& spec = only(R"(
[[command]]
name = "echo-it"
summary = "echo"
script = "scripts/echo.sh"
[[command.param]]
name = "text"
)",
                                   "echo-it");
    EXPECT_TRUE(spec.is_script());
    EXPECT_EQ(spec.script_content, script);
    // printf '#!/bin/sh\necho "$1"\n' | sha256sum
    EXPECT_EQ(spec.script_sha256,
              "98b54de746499858ec4f06db2ee31e1b6b8a1157e5697cdec917cca328e313cb");
    EXPECT_EQ(spec.interpreter, "/bin/sh");

    auto bound = bind(spec, command("echo-it", {word("hi there")}));
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    EXPECT_THAT(bound->argv, ElementsAre("/bin/sh", "scripts/echo.sh", "hi there"));
}

TEST_F(CatalogTest, ScriptLargerThanOneMebibyteIsRefused) {
    write("scripts/big.sh", std::string(Catalog::kMaxScriptBytes + 1, '#'));
    write("a.toml", "[[command]]\nname = \"big\"\nsummary = \"b\"\nscript = \"scripts/big.sh\"\n");
    auto catalog = load();
    ASSERT_FALSE(catalog.ok());
    EXPECT_THAT(catalog.error().message, HasSubstr("larger than 1 MiB"));
}

TEST_F(CatalogTest, PositionalAndNamedArgumentsBind) {
    const CommandSpec& spec = only(kRestart, "restart-service");
    auto positional = bind(spec, command("restart-service", {word("nginx")}));
    ASSERT_TRUE(positional.ok()) << positional.error().message;
    EXPECT_THAT(positional->argv,
                ElementsAre("systemctl", "restart", "nginx.service", "--force=false"));
    EXPECT_EQ(positional->values.at("service"), "nginx");
    EXPECT_EQ(positional->values.at("force"), "false");
    EXPECT_EQ(positional->target, "web-01");
    EXPECT_EQ(positional->spec, &spec);

    auto named = bind(
        spec, command("restart-service", {option("force"), option("service", "db")}, std::nullopt));
    ASSERT_TRUE(named.ok()) << named.error().message;
    EXPECT_EQ(named->values.at("service"), "db");
    EXPECT_EQ(named->values.at("force"), "true");
    EXPECT_EQ(named->target, "role=web");

    auto separate = bind(spec, command("restart-service",
                                       {option("service"), word("ssh"), option("force", "false")}));
    ASSERT_TRUE(separate.ok()) << separate.error().message;
    EXPECT_EQ(separate->values.at("service"), "ssh");
    EXPECT_EQ(separate->values.at("force"), "false");

    auto extra = bind(spec, command("restart-service", {word("nginx"), word("again")}));
    ASSERT_FALSE(extra.ok());
    EXPECT_THAT(extra.error().message, HasSubstr("too many arguments for restart-service"));

    auto twice = bind(spec, command("restart-service", {option("service", "a"), word("b")}));
    ASSERT_FALSE(twice.ok());
    EXPECT_THAT(twice.error().message, HasSubstr("too many arguments"));
}

TEST_F(CatalogTest, UsageShowsPositionalsFlagsAndTarget) {
    const CommandSpec& spec = only(kRestart, "restart-service");
    EXPECT_EQ(usage(spec), "!restart-service SERVICE [--force] [--on TARGET]");
}

TEST_F(CatalogTest, DefaultsApplyAndRequiredAreEnforced) {
    const CommandSpec& spec = only(R"(
[[command]]
name = "tail-log"
summary = "tail"
run = ["tail", "-n", "{lines}", "{path}", "{extra}"]
[[command.param]]
name = "lines"
type = "int"
default = 50
[[command.param]]
name = "path"
required = true
help = "the log file"
[[command.param]]
name = "extra"
)",
                                   "tail-log");
    auto bound = bind(spec, command("tail-log", {word("/var/log/syslog")}));
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    // Required params take positional words first; an absent optional element is dropped.
    EXPECT_THAT(bound->argv, ElementsAre("tail", "-n", "50", "/var/log/syslog"));
    EXPECT_EQ(bound->values.count("extra"), 0u);

    auto missing = bind(spec, command("tail-log", {option("lines", "5")}));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "missing --path (the log file)");

    auto nowhere = bind(spec, command("tail-log", {word("/var/log/syslog")}, std::nullopt));
    ASSERT_FALSE(nowhere.ok());
    EXPECT_EQ(nowhere.error().message, "say where: --on TARGET");
}

TEST_F(CatalogTest, TypedValuesAreValidated) {
    const CommandSpec& spec = only(R"(
[[command]]
name = "typed"
summary = "every type"
run = ["x", "{count}", "{mode}", "{wait}", "{name}", "{yes}"]
[[command.param]]
name = "count"
type = "int"
min = 1
max = 10
[[command.param]]
name = "mode"
type = "enum"
choices = ["fast", "slow"]
[[command.param]]
name = "wait"
type = "duration"
[[command.param]]
name = "name"
pattern = "^[a-z]+$"
[[command.param]]
name = "yes"
type = "bool"
)",
                                   "typed");
    auto error_of = [&](std::vector<chat::Token> tokens) {
        auto bound = bind(spec, command("typed", std::move(tokens)));
        return bound.ok() ? std::string("ok") : bound.error().message;
    };
    EXPECT_EQ(error_of({option("count", "ten")}), "--count must be an integer, not 'ten'");
    EXPECT_EQ(error_of({option("count", "11")}), "--count must be between 1 and 10, not 11");
    EXPECT_EQ(error_of({option("mode", "medium")}),
              "--mode must be one of fast, slow, not 'medium'");
    EXPECT_EQ(error_of({option("wait", "soon")}),
              "--wait must be a duration such as 30s or 5m, not 'soon'");
    EXPECT_EQ(error_of({option("name", "Bob")}), "--name must match ^[a-z]+$, not 'Bob'");
    EXPECT_EQ(error_of({option("yes", "maybe")}), "--yes must be true or false, not 'maybe'");
    EXPECT_EQ(error_of({option("count"), option("mode", "fast")}), "--count needs a value");

    auto good = bind(
        spec, command("typed", {option("count", "007"), option("mode", "slow"),
                                option("wait", "1h30m"), option("name", "bob"), option("yes")}));
    ASSERT_TRUE(good.ok()) << good.error().message;
    EXPECT_THAT(good->argv, ElementsAre("x", "7", "slow", "1h30m", "bob", "true"));
}

TEST_F(CatalogTest, ShellMetacharactersStayOneArgvElement) {
    const CommandSpec& spec = only(R"(
[[command]]
name = "echo"
summary = "echo"
run = ["echo", "{text}", "prefix-{text}-suffix"]
[[command.param]]
name = "text"
pattern = ".*"
)",
                                   "echo");
    const std::string nasty = "x; rm -rf / $(id) `id` | cat > /etc/passwd && 'q' \"{text}\"";
    auto bound = bind(spec, command("echo", {word(nasty)}));
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    EXPECT_THAT(bound->argv, ElementsAre("echo", nasty, "prefix-" + nasty + "-suffix"));
}

TEST_F(CatalogTest, ControlCharactersInValuesAreRefused) {
    const CommandSpec& spec = only(R"(
[[command]]
name = "echo"
summary = "echo"
run = ["echo", "{text}"]
[[command.param]]
name = "text"
)",
                                   "echo");
    for (std::string bad : {std::string("a\nb"), std::string("a\0b", 3), std::string("a\x1b[2J"),
                            std::string("a\x7f"), std::string("a\xc2\x85")}) {
        auto bound = bind(spec, command("echo", {word(bad)}));
        ASSERT_FALSE(bound.ok());
        EXPECT_EQ(bound.error().message, "--text must not contain control characters");
    }
    auto target = bind(spec, command("echo", {word("ok")}, std::string("web\n01")));
    ASSERT_FALSE(target.ok());
    EXPECT_EQ(target.error().message, "--on must not contain control characters");
    auto unicode = bind(spec, command("echo", {word("caf\xc3\xa9")}));
    EXPECT_TRUE(unicode.ok());
}

TEST_F(CatalogTest, UnknownOptionSuggestsTheNearestName) {
    const CommandSpec& spec = only(kRestart, "restart-service");
    auto typo = bind(spec, command("restart-service", {word("nginx"), option("forse")}));
    ASSERT_FALSE(typo.ok());
    EXPECT_EQ(typo.error().message,
              "unknown option --forse for restart-service; did you mean --force?");
    auto far = bind(spec, command("restart-service", {word("nginx"), option("verbose")}));
    ASSERT_FALSE(far.ok());
    EXPECT_EQ(far.error().message, "unknown option --verbose for restart-service");
}

TEST_F(CatalogTest, ExamplesLoad) {
    auto catalog = Catalog::load(std::string(HOSTLINE_SOURCE_DIR) + "/examples/commands.d");
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    for (const char* name : {"uptime", "disk-usage", "service-status", "restart-service",
                             "tail-log", "who-is-logged-in"})
        EXPECT_NE(catalog->find(name), nullptr) << name;

    const CommandSpec& tail = *catalog->find("tail-log");
    auto ok = bind(tail, command("tail-log", {word("/var/log/nginx/error.log")}));
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_THAT(ok->argv, ElementsAre("tail", "-n", "50", "/var/log/nginx/error.log"));
    EXPECT_FALSE(bind(tail, command("tail-log", {word("/var/log/../../etc/shadow")})).ok());
    EXPECT_FALSE(bind(tail, command("tail-log", {word("/etc/shadow")})).ok());

    const CommandSpec& disk = *catalog->find("disk-usage");
    auto all = bind(disk, command("disk-usage", {}));
    ASSERT_TRUE(all.ok()) << all.error().message;
    EXPECT_THAT(all->argv, ElementsAre("df", "-h"));

    ASSERT_TRUE(catalog->find("restart-service")->approval.has_value());
    EXPECT_FALSE(catalog->find("who-is-logged-in")->script_content.empty());
}

}  // namespace
}  // namespace hostline::controller
