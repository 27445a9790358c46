// The hostile-arguments corpus: injection attempts against catalog commands with typed
// parameters, sent through the chat the way people send them, against a real controller
// and a real agent. Every command runs a recorder that writes the argv it was given, so the
// test checks what the agent actually executed: each attempt is either refused with a
// message (and nothing ran) or reached the program as exactly one argv element equal to the
// value typed. No attempt may create a /tmp/hostline-pwned-* file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "integration/chat_over_http.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

enum class Expect {
    verbatim_or_refused,  // free text: the value must arrive whole, or be refused
    refused,              // the parameter's type or pattern cannot hold it
    verbatim,             // a valid value: it must run, and arrive whole
};

struct Attempt {
    std::string command;  // a catalog command of the corpus
    std::string value;    // what the person means to pass
    Expect expect;
    // The chat message after "!command --on HOST "; empty: `-- "value"` (a flag:
    // `--value="value"`), quoted so that the grammar hands over exactly value. Raw texts show what
    // the grammar makes of them.
    std::string raw = {};
    std::string ran = {};  // for raw texts: the one argv element it may arrive as

    std::string argument() const { return raw.empty() ? value : ran; }
    std::string message() const;
};

// value inside "...", where the grammar unescapes only \" and \\.
std::string double_quoted(const std::string& value) {
    std::string out = "\"";
    for (char ch : value) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

std::string Attempt::message() const {
    std::string rest = !raw.empty()            ? raw
                       : command == "rec-bool" ? "--value=" + double_quoted(value)  // a flag
                                               : "-- " + double_quoted(value);
    return "!" + command + " --on corpus " + rest;
}

std::vector<std::string> split_nul(const std::string& bytes) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nul; (nul = bytes.find('\0', start)) != std::string::npos; start = nul + 1)
        out.push_back(bytes.substr(start, nul - start));
    return out;
}

std::vector<std::string> pwned_files() {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator("/tmp"))
        if (entry.path().filename().string().rfind("hostline-pwned-", 0) == 0)
            out.push_back(entry.path().string());
    return out;
}

// Printable: what an attempt was, in a failure message.
std::string shown(const std::string& text) {
    std::string out;
    for (unsigned char ch : text.substr(0, 80)) {
        if (ch >= 0x20 && ch < 0x7f) {
            out += static_cast<char>(ch);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", ch);
            out += hex;
        }
    }
    return out + (text.size() > 80 ? "...(" + std::to_string(text.size()) + " bytes)" : "");
}

std::vector<Attempt> corpus(const std::string& pwned) {
    int n = 0;
    auto p = [&] { return pwned + std::to_string(++n); };  // a file no attempt may create
    // Shell metacharacters, substitutions, separators and redirections.
    std::vector<std::string> shell = {
        "; touch " + p(),
        ";touch " + p(),
        "x; touch " + p(),
        "| touch " + p(),
        "x|touch " + p(),
        "& touch " + p(),
        "&& touch " + p(),
        "|| touch " + p(),
        "> " + p(),
        ">> " + p(),
        "< /etc/passwd",
        "2>&1",
        "x 2>&1 | tee " + p(),
        "$(touch " + p() + ")",
        "$(touch${IFS}" + p() + ")",
        "`touch " + p() + "`",
        "${IFS}touch${IFS}" + p(),
        "$IFS",
        "$HOME",
        "${PATH}",
        "$((1+1))",
        "<(touch " + p() + ")",
        ">(touch " + p() + ")",
        "a;b|c&d>e<f",
        "exec sh -c 'touch " + p() + "'",
        "!run --on * -- touch " + p(),
        "{value}",
        "{}",
        "%s%s%n",
    };
    // Line breaks and control characters: a chat message is one command.
    std::vector<std::string> controls = {
        "x\ntouch " + p(),
        "x\rtouch " + p(),
        "x\r\ntouch " + p(),
        std::string("x\0touch ", 8) + p(),
        "x\ttouch " + p(),
        "\x1b[31mred",
        "del\x7f",
        "nel\xc2\x85",  // U+0085, a C1 control
        "\x01",
    };
    // Paths and options that a program might act on.
    std::vector<std::string> paths_and_options = {
        "../../etc/passwd",
        "/etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "....//....//etc/passwd",
        "~root/.ssh/id_rsa",
        "/proc/self/environ",
        "--output=/etc/passwd",
        "--output=" + p(),
        "-rf",
        "--",
        "-",
        "-o/etc/passwd",
        "--help",
        "--on=*",
        "--dry-run",
        "-e touch " + p(),
    };
    // Globs, quotes of every kind and backslashes.
    std::vector<std::string> globs_and_quotes = {
        "*",
        "?",
        "[a-z]*",
        "/etc/*",
        "**/*",
        "'",
        "\"",
        "`",
        "'\"'\"'",
        "\u2018smart\u2019",
        "\u201Csmart\u201D",
        "don\u2019t",
        "\\",
        "\\\\",
        "a\\;b",
        "\\n",
        "\\x00",
        "%00",
    };
    // Sizes, encodings and look-alikes.
    std::vector<std::string> odd = {
        "",
        " ",
        "two words",
        std::string(4096, 'A'),  // the longest value a parameter takes
        std::string(4097, 'B'),
        std::string(5000, 'C'),
        std::string(20000, 'D'),  // longer than a whole chat message may be
        "\xff\xfe",               // invalid UTF-8
        "\xc0\xaf",               // an overlong '/'
        "\xed\xa0\x80",           // a UTF-16 surrogate
        "caf\xc3",                // a truncated sequence
        "x\uFF1Btouch " + p(),    // fullwidth semicolon
        "\u202Etxt.exe",          // right-to-left override
        "zero\u200Bwidth",
        "nb\u00A0sp",
        "line\u2028separator",
        "\uFF04(touch " + p() + ")",  // fullwidth dollar
        "équipe 日本語",
    };

    std::vector<Attempt> attempts;
    for (const auto* group : {&shell, &controls, &paths_and_options, &globs_and_quotes, &odd})
        for (const std::string& value : *group) {
            attempts.push_back({"rec-string", value, Expect::verbatim_or_refused});
            attempts.push_back({"rec-name", value, Expect::refused});
        }
    // Typed parameters: every hostile value is refused; the valid ones run.
    for (const std::string& value :
         {std::string("1; touch ") + p(), std::string("$(id)"), std::string("1 2"),
          std::string("0x10"), std::string("1e3"), std::string("99999999999999999999"),
          std::string("-1"), std::string("--count=5"), std::string("")})
        attempts.push_back({"rec-int", value, Expect::refused});
    for (const std::string& value :
         {std::string("start; touch ") + p(), std::string("START"), std::string("start "),
          std::string("st*"), std::string("$(echo start)"), std::string("")})
        attempts.push_back({"rec-enum", value, Expect::refused});
    for (const std::string& value : {std::string("true; touch ") + p(), std::string("yes"),
                                     std::string("1"), std::string("TRUE"), std::string("")})
        attempts.push_back({"rec-bool", value, Expect::refused});
    for (const std::string& value :
         {std::string("30s; touch ") + p(), std::string("$(sleep 100)"), std::string("-5s"),
          std::string("30"), std::string("1 h"), std::string("")})
        attempts.push_back({"rec-duration", value, Expect::refused});
    for (const char* value : {"web-01", "a1"})
        attempts.push_back({"rec-name", value, Expect::verbatim});
    attempts.push_back({"rec-int", "42", Expect::verbatim});
    attempts.push_back({"rec-enum", "status", Expect::verbatim});
    attempts.push_back({"rec-bool", "false", Expect::verbatim});
    attempts.push_back({"rec-duration", "1h30m", Expect::verbatim});
    attempts.push_back({"rec-string", "plain", Expect::verbatim});

    // As people type them, unquoted: what the grammar does with the raw text.
    auto raw = [&](std::string text, Expect expect, std::string ran = {}) {
        attempts.push_back({"rec-string", text, expect, text, std::move(ran)});
    };
    raw("x; touch " + p(), Expect::refused);       // three words for one parameter
    raw("$(touch " + p() + ")", Expect::refused);  // two words
    std::string one = "`touch${IFS}" + p() + "`";
    raw(one, Expect::verbatim, one);               // one word, passed as it is
    raw("--output=/etc/passwd", Expect::refused);  // an unknown option, not a value
    raw("--value=--output=/etc/passwd", Expect::verbatim, "--output=/etc/passwd");
    raw("-rf", Expect::verbatim_or_refused, "-rf");
    raw("'unclosed", Expect::refused);
    raw("trailing\\", Expect::refused);
    raw("\"a\"'b'c\\ d", Expect::verbatim, "abc d");
    raw("--value x --value y", Expect::refused);  // given twice
    return attempts;
}

constexpr const char* kHost = "corpus";  // as Attempt::message() names it

class HostileArguments : public ::testing::Test {
  protected:
    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.controller_log().substr(0, 20000).c_str());
        }
    }
    LocalCluster cluster;
};

TEST_F(HostileArguments, EveryAttemptIsRefusedOrArrivesAsExactlyOneArgvElement) {
    const std::string pwned = "/tmp/hostline-pwned-" + std::to_string(::getpid()) + "-";
    const std::vector<std::string> pwned_before = pwned_files();
    const std::string records = cluster.dir() + "/records";
    fs::create_directories(records);
    const std::string recorder = cluster.dir() + "/recorder.sh";
    // Writes its argv, NUL-separated, to records/JOB_ID; never interprets it.
    std::ofstream(recorder) << "#!/bin/sh\nprintf '%s\\000' \"$0\" \"$@\" > \"" << records
                            << "/$HOSTLINE_JOB_ID\"\n";
    fs::permissions(recorder, fs::perms::owner_all);

    const std::string catalog = cluster.dir() + "/commands.d";
    fs::create_directories(catalog);
    auto command = [&](const std::string& name, const std::string& param) {
        const bool flag = param.find("bool") != std::string::npos;  // flags are never required
        return "[[command]]\nname = \"" + name + "\"\nsummary = \"Records its argument\"\n" +
               "run = [\"" + recorder + "\", \"{value}\"]\n[[command.param]]\nname = \"value\"\n" +
               (flag ? "" : "required = true\n") + param + "\n";
    };
    std::ofstream(catalog + "/corpus.toml")
        << command("rec-string", "type = \"string\"")
        << command("rec-name", "type = \"string\"\npattern = \"^[a-z0-9][a-z0-9-]{0,31}$\"")
        << command("rec-int", "type = \"int\"\nmin = 1\nmax = 1000")
        << command("rec-enum", "type = \"enum\"\nchoices = [\"start\", \"stop\", \"status\"]")
        << command("rec-bool", "type = \"bool\"") << command("rec-duration", "type = \"duration\"");
    cluster.add_controller_config("[catalog]\ndir = \"" + catalog + "\"\n");
    // The policy lets mallory run every command: what is under test is the arguments alone.
    cluster.set_policy("[groups.everyone]\nmembers = [\"local:*\"]\nroles = [\"admin\"]\n");
    cluster.set_log_level("info");
    cluster.start_controller();
    cluster.add_agent(kHost, {.capacity = 16});
    cluster.wait_online({kHost});

    const std::vector<Attempt> attempts = corpus(pwned);
    ASSERT_GE(attempts.size(), 100u);
    std::vector<ChatAnswer> answers(attempts.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w)
        workers.emplace_back([&] {
            for (std::size_t i; (i = next++) < attempts.size();) {
                answers[i] = say_in_chat(cluster, "local:mallory", attempts[i].message(),
                                         cluster.dir() + "/attempt-" + std::to_string(i));
            }
        });
    for (auto& w : workers) w.join();

    std::size_t ran = 0, refused = 0;
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        const Attempt& a = attempts[i];
        const ChatAnswer& answer = answers[i];
        SCOPED_TRACE("attempt " + std::to_string(i) + ": " + shown(a.message()) +
                     "\nanswer: " + shown(answer.all()));
        long job = -1;
        for (const std::string& reply : answer.replies)
            if (reply.rfind("job #", 0) == 0) job = std::atol(reply.c_str() + 5);
        if (job < 0) {
            ++refused;
            EXPECT_NE(a.expect, Expect::verbatim) << "a valid value was refused";
            // A refusal says what was wrong: the grammar's or the parameter's error, or the
            // API's for a body that is not JSON.
            ASSERT_FALSE(answer.replies.empty());
            const std::string& why = answer.replies.front();
            if (answer.http_status == 400)  // only invalid UTF-8 is stopped before the chat
                EXPECT_EQ(why, "the body is not valid JSON (strings must be UTF-8)");
            else
                EXPECT_EQ(why.rfind("error: ", 0), 0u) << why;
            EXPECT_GT(why.size(), 12u) << why;
            continue;
        }
        ++ran;
        EXPECT_NE(a.expect, Expect::refused) << "it ran";
        const std::string record = records + "/" + std::to_string(job);
        ASSERT_TRUE(fs::exists(record)) << "job #" << job << " ran nothing";
        const std::vector<std::string> argv = split_nul(read_whole_file(record));
        ASSERT_EQ(argv.size(), 2u) << "job #" << job;
        EXPECT_EQ(argv[0], recorder);
        EXPECT_EQ(argv[1], a.argument()) << "received " << shown(argv[1]);
        EXPECT_NE(answer.all().find("job #" + std::to_string(job) + " succeeded"),
                  std::string::npos);
    }
    // Nothing ran for a refused attempt: one record per job that ran, none more.
    std::size_t records_written = 0;
    for (const auto& entry : fs::directory_iterator(records)) {
        (void)entry;
        ++records_written;
    }
    EXPECT_EQ(records_written, ran);
    EXPECT_EQ(pwned_files(), pwned_before) << "an attempt reached a shell";
    for (int i = 1; i < 200; ++i) EXPECT_FALSE(fs::exists(pwned + std::to_string(i)));
    std::printf("[ corpus   ] %zu attempts: %zu ran verbatim, %zu refused\n", attempts.size(), ran,
                refused);
}

}  // namespace
}  // namespace hostline::testing
