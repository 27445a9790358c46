#include "chat/grammar/parser.hpp"

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hostline::chat {
namespace {

using namespace std::chrono_literals;
using ::testing::IsEmpty;
using ::testing::Optional;

// The command text must parse into.
ParsedCommand parsed(std::string_view text) {
    auto command = parse_command(text);
    EXPECT_TRUE(command.ok()) << text << ": " << (command ? "" : command.error().message);
    return command ? *command : ParsedCommand{};
}

// The error parsing text (which must fail) gives.
std::string error_of(std::string_view text) {
    auto command = parse_command(text);
    EXPECT_FALSE(command.ok()) << text << " parsed as " << (command ? command->name : "");
    return command ? "" : command.error().message;
}

// Tokens as one readable line: words as they are, options as --name or --name=value, and
// words after `--` marked with a leading '|'.
std::string shown(const std::vector<Token>& tokens) {
    std::string line;
    for (const Token& token : tokens) {
        if (!line.empty()) line += ' ';
        if (token.after_double_dash) line += '|';
        if (token.kind == Token::Kind::option) {
            line += "--" + token.text;
            if (token.inline_value) line += "=" + *token.inline_value;
        } else {
            line += token.text;
        }
    }
    return line;
}

Addressing channel() {
    return Addressing{.prefix = "!", .bot_name = "hostline", .direct_message = false};
}
Addressing direct() {
    return Addressing{.prefix = "!", .bot_name = "hostline", .direct_message = true};
}

// --- addressing ---

TEST(Addressing, MentionAndPrefixAndDirectMessageAddressTheBot) {
    EXPECT_THAT(addressed_text("!deploy web", channel()), Optional(std::string_view("deploy web")));
    EXPECT_THAT(addressed_text("  \t!help", channel()), Optional(std::string_view("help")));
    EXPECT_THAT(addressed_text("hostline: jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("hostline, jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("@hostline jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("HostLine: jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("@HOSTLINE: jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("@hostline !jobs", channel()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("jobs", direct()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text(" !jobs", direct()), Optional(std::string_view("jobs")));
    EXPECT_THAT(addressed_text("hostline: jobs", direct()), Optional(std::string_view("jobs")));
}

TEST(Addressing, LonePrefixOrMentionIsAddressedWithEmptyText) {
    EXPECT_THAT(addressed_text("!", channel()), Optional(std::string_view("")));
    EXPECT_THAT(addressed_text("@hostline", channel()), Optional(std::string_view("")));
    EXPECT_EQ(error_of(*addressed_text("!", channel())), "empty command: try !help");
}

TEST(Addressing, OrdinaryChatIsNotAddressed) {
    EXPECT_EQ(addressed_text("deploy web", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("hostline is down again", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("hostliners: lunch?", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("@hostliners lunch?", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("did you try !deploy", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("", channel()), std::nullopt);
    EXPECT_EQ(addressed_text("   ", channel()), std::nullopt);
}

TEST(Addressing, EmptyPrefixOrNameTurnsThatWayOff) {
    const Addressing no_prefix{.prefix = "", .bot_name = "hostline", .direct_message = false};
    EXPECT_EQ(addressed_text("deploy web", no_prefix), std::nullopt);
    EXPECT_THAT(addressed_text("hostline: help", no_prefix), Optional(std::string_view("help")));
    const Addressing no_name{.prefix = "!", .bot_name = "", .direct_message = false};
    EXPECT_EQ(addressed_text(": help", no_name), std::nullopt);
    EXPECT_EQ(addressed_text("@ help", no_name), std::nullopt);
}

TEST(Addressing, LongerPrefixWorks) {
    const Addressing a{.prefix = "hl!", .bot_name = "hostline", .direct_message = false};
    EXPECT_THAT(addressed_text("hl!jobs", a), Optional(std::string_view("jobs")));
    EXPECT_EQ(addressed_text("!jobs", a), std::nullopt);
}

// --- parsing ---

TEST(Parser, NameAndWords) {
    ParsedCommand command = parsed("deploy web 'two words' -x");
    EXPECT_EQ(command.name, "deploy");
    EXPECT_EQ(shown(command.tokens), "web two words -x");
    EXPECT_EQ(command.target, std::nullopt);
    EXPECT_EQ(command.timeout, std::nullopt);
    EXPECT_EQ(command.batch.has_value(), false);
    EXPECT_FALSE(command.dry_run);
}

TEST(Parser, CommandNameIsLowercased) {
    EXPECT_EQ(parsed("Disk-Usage").name, "disk-usage");
    EXPECT_EQ(parsed("HELP").name, "help");
    EXPECT_EQ(parsed("rotate_logs2").name, "rotate_logs2");
}

TEST(Parser, BadCommandNameIsNamed) {
    EXPECT_EQ(error_of("Déploy web"), "'Déploy' is not a command name");
    EXPECT_EQ(error_of("2fa"), "'2fa' is not a command name");
    EXPECT_EQ(error_of("--on web"), "'--on' is not a command name");
    EXPECT_EQ(error_of("'' x"), "'' is not a command name");
    EXPECT_EQ(error_of("rm;ls"), "'rm;ls' is not a command name");
    EXPECT_TRUE(parse_command("a" + std::string(63, 'b')).ok());
    EXPECT_EQ(error_of("a" + std::string(64, 'b')),
              "'a" + std::string(39, 'b') + "...' is not a command name");
}

TEST(Parser, EmptyCommandSuggestsHelp) {
    EXPECT_EQ(error_of(""), "empty command: try !help");
    EXPECT_EQ(error_of("  \t "), "empty command: try !help");
}

TEST(Parser, TokenizerErrorsPassThrough) {
    EXPECT_EQ(error_of("deploy web 'role=web"), "unclosed ' quote starting at column 12");
}

TEST(Parser, SharedOptionsAreTakenOut) {
    ParsedCommand command = parsed(
        "deploy web --force --on 'role=web&env=prod' --timeout 5m --batch 25% --dry-run "
        "--level=3");
    EXPECT_EQ(command.name, "deploy");
    EXPECT_EQ(shown(command.tokens), "web --force --level=3");
    EXPECT_EQ(command.target, "role=web&env=prod");
    EXPECT_EQ(command.timeout, 5min);
    ASSERT_TRUE(command.batch);
    EXPECT_EQ(command.batch->size, 25u);
    EXPECT_TRUE(command.batch->percent);
    EXPECT_TRUE(command.dry_run);
}

TEST(Parser, SharedOptionsTakeInlineValues) {
    ParsedCommand command = parsed("restart --on=web-01 --timeout=1h30m --batch=2 nginx");
    EXPECT_EQ(shown(command.tokens), "nginx");
    EXPECT_EQ(command.target, "web-01");
    EXPECT_EQ(command.timeout, 90min);
    ASSERT_TRUE(command.batch);
    EXPECT_EQ(command.batch->size, 2u);
    EXPECT_FALSE(command.batch->percent);
}

TEST(Parser, RepeatedSharedOptionIsAnError) {
    EXPECT_EQ(error_of("run --on a --on=b"), "--on is given twice; give it once");
    EXPECT_EQ(error_of("run --timeout 1s --timeout 2s"), "--timeout is given twice; give it once");
    EXPECT_EQ(error_of("run --batch 1 --batch 2"), "--batch is given twice; give it once");
    EXPECT_EQ(error_of("run --dry-run --dry-run"), "--dry-run is given twice; give it once");
}

TEST(Parser, SharedOptionWithoutItsValueIsAnError) {
    EXPECT_EQ(error_of("run --on"), "--on needs a target, e.g. --on web-01");
    EXPECT_EQ(error_of("run --on="), "--on needs a target, e.g. --on web-01");
    EXPECT_EQ(error_of("run --on ''"), "--on needs a target, e.g. --on web-01");
    EXPECT_EQ(error_of("run --on --dry-run"), "--on needs a target, e.g. --on web-01");
    EXPECT_EQ(error_of("run --on -- ls"), "--on needs a target, e.g. --on web-01");
    EXPECT_EQ(error_of("run --timeout"), "--timeout needs a duration, e.g. --timeout 30s");
    EXPECT_EQ(error_of("run --batch"), "--batch needs a size, e.g. --batch 2 or --batch 25%");
    EXPECT_EQ(error_of("run --dry-run=yes"), "--dry-run takes no value");
}

TEST(Parser, BadTimeoutGivesTheDurationError) {
    EXPECT_EQ(error_of("run --timeout 30"), "duration '30': no unit; say 30s, not 30");
    EXPECT_EQ(error_of("run --timeout=5x"),
              "duration '5x': unknown unit 'x' (use ms, s, m, h or d)");
}

TEST(Parser, BadBatchIsRefused) {
    const std::string hint =
        " is not a batch size: give a number of hosts (--batch 2) or a percentage (--batch 25%)";
    EXPECT_EQ(error_of("run --batch 0"), "--batch must be at least 1 (or 1%)");
    EXPECT_EQ(error_of("run --batch 0%"), "--batch must be at least 1 (or 1%)");
    EXPECT_EQ(error_of("run --batch 101%"), "--batch 101% is more than 100%");
    EXPECT_EQ(error_of("run --batch half"), "--batch 'half'" + hint);
    EXPECT_EQ(error_of("run --batch -2"), "--batch '-2'" + hint);
    EXPECT_EQ(error_of("run --batch +2"), "--batch '+2'" + hint);
    EXPECT_EQ(error_of("run --batch %"), "--batch '%'" + hint);
    EXPECT_EQ(error_of("run --batch 2%%"), "--batch '2%%'" + hint);
    EXPECT_EQ(error_of("run --batch 99999999999"), "--batch '99999999999'" + hint);
    ParsedCommand command = parsed("run --batch 100%");
    ASSERT_TRUE(command.batch);
    EXPECT_EQ(command.batch->size, 100u);
}

TEST(Parser, DoubleDashEndsOptions) {
    ParsedCommand command = parsed("run --on web-01 -- ls -la --on x -- --dry-run 'a b'");
    EXPECT_EQ(command.name, "run");
    EXPECT_EQ(command.target, "web-01");
    EXPECT_FALSE(command.dry_run);
    EXPECT_EQ(shown(command.tokens), "|ls |-la |--on |x |-- |--dry-run |a b");
    EXPECT_THAT(parsed("run --").tokens, IsEmpty());
}

TEST(Parser, OtherOptionsStayAsTokens) {
    ParsedCommand command = parsed("deploy --force --tag v1.2 --note= --x-y=a=b");
    ASSERT_EQ(command.tokens.size(), 5u);
    EXPECT_EQ(command.tokens[0].kind, Token::Kind::option);
    EXPECT_EQ(command.tokens[0].text, "force");
    EXPECT_EQ(command.tokens[0].inline_value, std::nullopt);
    EXPECT_EQ(command.tokens[2].kind, Token::Kind::word);  // the catalog binds v1.2 to --tag
    EXPECT_EQ(command.tokens[3].inline_value, "");
    EXPECT_EQ(command.tokens[4].text, "x-y");
    EXPECT_EQ(command.tokens[4].inline_value, "a=b");
}

TEST(Parser, BadOptionNameIsNamed) {
    const std::string rule =
        " is not an option name: use lowercase letters, digits and '-' (to pass it as a word, "
        "put it after --)";
    EXPECT_EQ(error_of("deploy --Force"), "'--Force'" + rule);
    EXPECT_EQ(error_of("deploy --9lives=yes"), "'--9lives'" + rule);
    EXPECT_EQ(error_of("deploy ---x"), "'---x'" + rule);
    EXPECT_EQ(error_of("deploy --=x"), "'--=x'" + rule);
    EXPECT_EQ(error_of("deploy --ON web"), "'--ON'" + rule);
    EXPECT_EQ(shown(parsed("deploy -- --Force").tokens), "|--Force");
}

TEST(Parser, SingleDashWordsAreOrdinaryWords) {
    EXPECT_EQ(shown(parsed("grep -v - -on").tokens), "-v - -on");
}

TEST(Parser, QuotedOptionIsStillAnOption) {
    // As in a shell, quoting changes how a word is split, not what it means.
    EXPECT_EQ(parsed("run '--on' web-01").target, "web-01");
}

// Whatever arrives in a channel, neither addressing nor parsing crashes (the test build runs
// under ASan and UBSan), and every refusal says something. A quarter of the inputs are random
// bytes, a quarter random runs of special pieces, and half are command-like lines.
TEST(Parser, RandomInputNeverCrashes) {
    std::mt19937 random(424242);
    const std::vector<std::string> pieces = {
        " ",  "!",  "@hostline", "hostline:", "--",   "--on", "--timeout", "--batch", "--dry-run",
        "=",  "5m", "25%",       "0",         "'",    "\"",   "\\",        "“",       "”",
        "-x", "a",  "É",         "\xff",      "\x01", "\t",   "--Force",   "run"};
    const std::vector<std::string> words = {
        "'a b'",     "\"x y\"", "“z”",     "--on",   "--timeout", "--batch",
        "--dry-run", "5m",      "25%",     "3",      "0",         "--",
        "-x",        "É",       "--force", "web-01", "--on=db",   "--batch=2",
        "--tag=v1",  "--Force", "1h30m",   "*",      "a\\ b"};
    int parsed_ok = 0;
    for (int round = 0; round < 5000; ++round) {
        std::string text;
        const std::size_t length = random() % 48;
        for (std::size_t i = 0; i < length; ++i) {
            if (round % 4 == 0) {
                text += static_cast<char>(random() % 256);
            } else if (round % 4 == 1) {
                text += pieces[random() % pieces.size()];
            } else {
                text += (i == 0 ? "!run" : " " + words[random() % words.size()]);
            }
        }
        const auto addressed = addressed_text(text, round % 3 == 0 ? direct() : channel());
        auto command = parse_command(addressed.value_or(text));
        if (command) {
            ++parsed_ok;
            EXPECT_FALSE(command->name.empty());
        } else {
            EXPECT_FALSE(command.error().message.empty());
        }
    }
    EXPECT_GT(parsed_ok, 300);  // the loop gets past the tokenizer to the options
}

TEST(Parser, RolloutOptionsAreSharedOptions) {
    ParsedCommand command =
        parsed("deploy web --batch 2 --batch-wait 30s --fail-fast --force -- --fail-fast");
    EXPECT_EQ(shown(command.tokens), "web --force |--fail-fast");  // after --: a word
    ASSERT_TRUE(command.batch);
    EXPECT_EQ(command.batch->size, 2u);
    EXPECT_EQ(command.batch_wait, 30s);
    EXPECT_TRUE(command.fail_fast);
    ParsedCommand plain = parsed("deploy web");
    EXPECT_FALSE(plain.batch_wait);
    EXPECT_FALSE(plain.fail_fast);
    EXPECT_EQ(parsed("run --batch-wait=1m").batch_wait, 1min);
    EXPECT_EQ(error_of("run --batch-wait"), "--batch-wait needs a duration, e.g. --batch-wait 30s");
    EXPECT_EQ(error_of("run --batch-wait 30"), "duration '30': no unit; say 30s, not 30");
    EXPECT_EQ(error_of("run --fail-fast=yes"), "--fail-fast takes no value");
    EXPECT_EQ(error_of("run --fail-fast --fail-fast"), "--fail-fast is given twice; give it once");
}

}  // namespace
}  // namespace hostline::chat
