#include "common/target/target_expr.hpp"

#include <fnmatch.h>

#include <cstddef>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hostline::target {
namespace {

Host host(std::string name, std::map<std::string, std::string> labels = {}) {
    return Host{std::move(name), std::move(labels)};
}

// Whether expr (which must parse) matches h.
bool matches(std::string_view expr, const Host& h, const Groups& groups = {}) {
    auto parsed = TargetExpr::parse(expr, groups);
    EXPECT_TRUE(parsed.ok()) << expr << ": " << (parsed ? "" : parsed.error().message);
    return parsed && parsed->matches(h);
}

// The error parsing expr (which must fail) gives.
std::string error_of(std::string_view expr, const Groups& groups = {}) {
    auto parsed = TargetExpr::parse(expr, groups);
    EXPECT_FALSE(parsed.ok()) << expr << " parsed";
    return parsed ? "" : parsed.error().message;
}

std::string repeat(std::string_view piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}

using ::testing::HasSubstr;

// ---- Names ---------------------------------------------------------------------------------

TEST(TargetExpr, ExactNameMatchesOnlyThatHost) {
    EXPECT_TRUE(matches("web-01", host("web-01")));
    EXPECT_FALSE(matches("web-01", host("web-011")));
    EXPECT_FALSE(matches("web-01", host("web-0")));
    EXPECT_FALSE(matches("web-01", host("WEB-01")));
}

TEST(TargetExpr, GlobOnNameMatchesPrefix) {
    EXPECT_TRUE(matches("web-*", host("web-01")));
    EXPECT_TRUE(matches("web-*", host("web-")));
    EXPECT_FALSE(matches("web-*", host("db-01")));
    EXPECT_FALSE(matches("web-*", host("xweb-01")));
}

TEST(TargetExpr, QuestionMarkMatchesExactlyOneCharacter) {
    EXPECT_TRUE(matches("web-0?", host("web-07")));
    EXPECT_FALSE(matches("web-0?", host("web-0")));
    EXPECT_FALSE(matches("web-0?", host("web-071")));
}

TEST(TargetExpr, CharacterClassMatchesListedCharactersAndRanges) {
    EXPECT_TRUE(matches("db-0[12]", host("db-01")));
    EXPECT_TRUE(matches("db-0[12]", host("db-02")));
    EXPECT_FALSE(matches("db-0[12]", host("db-03")));
    EXPECT_TRUE(matches("db-[1-3]", host("db-2")));
    EXPECT_FALSE(matches("db-[1-3]", host("db-4")));
}

TEST(TargetExpr, ABangAfterTheOpeningBracketNegatesTheClass) {
    EXPECT_TRUE(matches("db-[!1-3]", host("db-4")));
    EXPECT_FALSE(matches("db-[!1-3]", host("db-2")));
    EXPECT_TRUE(matches("role=w[!x]b", host("a", {{"role", "web"}})));
    // Elsewhere '!' is still the operator.
    EXPECT_TRUE(matches("!db-[!1-3]", host("db-2")));
    EXPECT_TRUE(matches("db-*&!db-[!1-3]", host("db-1")));
    EXPECT_FALSE(matches("db-*&!db-[!1-3]", host("db-9")));
}

TEST(TargetExpr, StarAloneMatchesEveryAgent) {
    EXPECT_TRUE(matches("*", host("web-01")));
    EXPECT_TRUE(matches("*", host("db.example.com", {{"env", "prod"}})));
    EXPECT_TRUE(matches("*", host("")));
}

TEST(TargetExpr, NamesMayUseDotsColonsSlashesAndUnderscores) {
    EXPECT_TRUE(matches("db_1.eu-west.example.com", host("db_1.eu-west.example.com")));
    EXPECT_TRUE(matches("rack:4/slot_2", host("rack:4/slot_2")));
    EXPECT_TRUE(matches("*.example.com", host("a.example.com")));
}

// ---- Labels --------------------------------------------------------------------------------

TEST(TargetExpr, LabelEqualsMatchesThatValue) {
    EXPECT_TRUE(matches("role=web", host("h", {{"role", "web"}})));
    EXPECT_FALSE(matches("role=web", host("h", {{"role", "webserver"}})));
    EXPECT_FALSE(matches("role=web", host("web", {{"env", "web"}})));
}

TEST(TargetExpr, LabelEqualsNeverMatchesAMissingLabel) {
    EXPECT_FALSE(matches("role=*", host("h")));
    EXPECT_TRUE(matches("role=*", host("h", {{"role", ""}})));
}

TEST(TargetExpr, LabelValueMayBeAGlob) {
    EXPECT_TRUE(matches("dc=eu-*", host("h", {{"dc", "eu-west-1"}})));
    EXPECT_FALSE(matches("dc=eu-*", host("h", {{"dc", "us-east-1"}})));
    EXPECT_TRUE(matches("rack=r[0-4]", host("h", {{"rack", "r3"}})));
}

TEST(TargetExpr, LabelNotEqualsMatchesMissingOrDifferentLabel) {
    EXPECT_FALSE(matches("env!=prod", host("h", {{"env", "prod"}})));
    EXPECT_TRUE(matches("env!=prod", host("h", {{"env", "staging"}})));
    EXPECT_TRUE(matches("env!=prod", host("h")));
}

TEST(TargetExpr, LabelNotEqualsTakesAGlob) {
    EXPECT_FALSE(matches("env!=prod*", host("h", {{"env", "prod-eu"}})));
    EXPECT_TRUE(matches("env!=prod*", host("h", {{"env", "preprod"}})));
    EXPECT_TRUE(matches("env!=*", host("h")));
    EXPECT_FALSE(matches("env!=*", host("h", {{"env", "x"}})));
}

TEST(TargetExpr, LabelKeysAndValuesMayUsePunctuation) {
    EXPECT_TRUE(matches("k8s.io/zone=eu:1_a", host("h", {{"k8s.io/zone", "eu:1_a"}})));
}

// ---- Operators and precedence ----------------------------------------------------------------

TEST(TargetExpr, AndRequiresEveryTerm) {
    Host web_prod = host("web-01", {{"env", "prod"}});
    EXPECT_TRUE(matches("web-*&env=prod", web_prod));
    EXPECT_FALSE(matches("web-*&env=staging", web_prod));
    EXPECT_FALSE(matches("db-*&env=prod", web_prod));
    EXPECT_TRUE(matches("web-*&env=prod&*", web_prod));
}

TEST(TargetExpr, OrAcceptsAnyTerm) {
    EXPECT_TRUE(matches("web-01,db-01", host("web-01")));
    EXPECT_TRUE(matches("web-01,db-01", host("db-01")));
    EXPECT_FALSE(matches("web-01,db-01", host("cache-01")));
    EXPECT_TRUE(matches("a,b,c,d,cache-01", host("cache-01")));
}

TEST(TargetExpr, NotNegates) {
    EXPECT_FALSE(matches("!web-01", host("web-01")));
    EXPECT_TRUE(matches("!web-01", host("web-02")));
    EXPECT_TRUE(matches("!role=web", host("h")));
    EXPECT_TRUE(matches("!!web-01", host("web-01")));
    EXPECT_FALSE(matches("!*", host("web-01")));
}

TEST(TargetExpr, NotBindsTighterThanAnd) {
    // (!web-01) & role=web, not !(web-01 & role=web).
    EXPECT_FALSE(matches("!web-01&role=web", host("web-01", {{"role", "db"}})));
    EXPECT_TRUE(matches("!(web-01&role=web)", host("web-01", {{"role", "db"}})));
    EXPECT_TRUE(matches("!web-01&role=web", host("web-02", {{"role", "web"}})));
}

TEST(TargetExpr, NotBindsTighterThanOr) {
    // (!web-01) , web-02 matches web-02; !(web-01 , web-02) would not.
    EXPECT_TRUE(matches("!web-01,web-02", host("web-02")));
    EXPECT_FALSE(matches("!(web-01,web-02)", host("web-02")));
}

TEST(TargetExpr, AndBindsTighterThanOr) {
    // web-01 , (web-02 & role=web): web-01 matches without the label.
    EXPECT_TRUE(matches("web-01,web-02&role=web", host("web-01")));
    EXPECT_FALSE(matches("web-01,web-02&role=web", host("web-02")));
    EXPECT_TRUE(matches("role=web&web-02,web-01", host("web-01")));
}

TEST(TargetExpr, ParenthesesOverridePrecedence) {
    EXPECT_FALSE(matches("(web-01,web-02)&role=web", host("web-01")));
    EXPECT_TRUE(matches("(web-01,web-02)&role=web", host("web-01", {{"role", "web"}})));
    EXPECT_TRUE(matches("((((web-01))))", host("web-01")));
}

TEST(TargetExpr, WhitespaceAroundOperatorsIsIgnored) {
    Host h = host("web-01", {{"role", "web"}, {"env", "staging"}});
    EXPECT_TRUE(matches("  ( web-* , db-* ) & role = web & ! env != staging  ", h));
    EXPECT_TRUE(matches("\tweb-01\n", h));
    EXPECT_TRUE(matches("! db-01", h));
}

TEST(TargetExpr, LongFlatListParsesAndMatches) {
    std::string expr = "h0";
    for (int i = 1; i < 800; ++i) expr += ",h" + std::to_string(i);
    ASSERT_LE(expr.size(), TargetExpr::kMaxLength);
    EXPECT_TRUE(matches(expr, host("h799")));
    EXPECT_FALSE(matches(expr, host("h800")));
}

TEST(TargetExpr, TextIsKeptAsGiven) {
    auto parsed = TargetExpr::parse(" web-* & @dbs ", {{"dbs", "db-*"}});
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->text(), " web-* & @dbs ");
}

TEST(TargetExpr, CopiesMatchLikeTheOriginal) {
    auto parsed = TargetExpr::parse("role=web&!web-02");
    ASSERT_TRUE(parsed.ok());
    TargetExpr copy = *parsed;
    EXPECT_TRUE(copy.matches(host("web-01", {{"role", "web"}})));
    EXPECT_FALSE(copy.matches(host("web-02", {{"role", "web"}})));
}

// ---- Groups --------------------------------------------------------------------------------

TEST(TargetExpr, GroupMatchesWhatItsExpressionMatches) {
    Groups groups{{"databases", "db-*,role=postgres"}};
    EXPECT_TRUE(matches("@databases", host("db-01"), groups));
    EXPECT_TRUE(matches("@databases", host("pg", {{"role", "postgres"}}), groups));
    EXPECT_FALSE(matches("@databases", host("web-01"), groups));
}

TEST(TargetExpr, GroupIsOneTermWhateverItsOperators) {
    // If @databases were pasted in as text, "db-01,db-02&env=prod" would match db-01 anywhere.
    Groups groups{{"databases", "db-01,db-02"}};
    EXPECT_FALSE(matches("@databases&env=prod", host("db-01", {{"env", "dev"}}), groups));
    EXPECT_TRUE(matches("@databases&env=prod", host("db-01", {{"env", "prod"}}), groups));
    EXPECT_TRUE(matches("!@databases", host("web-01"), groups));
}

TEST(TargetExpr, GroupsMayUseOtherGroups) {
    Groups groups{{"all-data", "@databases,@caches"}, {"databases", "db-*"}, {"caches", "redis-?"}};
    EXPECT_TRUE(matches("@all-data", host("redis-1"), groups));
    EXPECT_TRUE(matches("@all-data", host("db-9"), groups));
    EXPECT_FALSE(matches("@all-data", host("web-1"), groups));
}

TEST(TargetExpr, SameGroupMayBeUsedTwice) {
    Groups groups{{"a", "@b&@b"}, {"b", "x"}};
    EXPECT_TRUE(matches("@a,@b", host("x"), groups));
}

TEST(TargetExpr, UnknownGroupIsAnErrorNamingIt) {
    std::string message = error_of("web-*,@nope", {{"databases", "db-*"}});
    EXPECT_EQ(message, "target 'web-*,@nope': unknown group '@nope' at column 7");
}

TEST(TargetExpr, GroupCycleIsAnErrorNamingTheCycle) {
    Groups groups{{"a", "x,@b"}, {"b", "@c"}, {"c", "y&@a"}};
    std::string message = error_of("@a", groups);
    EXPECT_THAT(message, HasSubstr("group cycle @a -> @b -> @c -> @a"));
    EXPECT_THAT(message, HasSubstr("column 3"));  // of "@a" in c's text "y&@a"
}

TEST(TargetExpr, GroupReferringToItselfIsAnError) {
    Groups groups{{"loop", "web-*,@loop"}};
    EXPECT_THAT(error_of("@loop", groups), HasSubstr("group cycle @loop -> @loop"));
    // As config validation parses a group's own text.
    EXPECT_THAT(error_of(groups.at("loop"), groups), HasSubstr("group cycle @loop -> @loop"));
}

TEST(TargetExpr, ErrorInsideAGroupNamesTheGroupAndItsColumn) {
    std::string message = error_of("web-01,@dbs", {{"dbs", "db-*&"}});
    EXPECT_EQ(message,
              "target 'web-01,@dbs': in group '@dbs' = 'db-*&': expected a host, label or group "
              "after '&' at column 6");
}

TEST(TargetExpr, EmptyGroupNameIsAnError) {
    EXPECT_THAT(error_of("@"), HasSubstr("expected a group name after '@' at column 1"));
    EXPECT_THAT(error_of("a, @ b"), HasSubstr("expected a group name after '@' at column 4"));
}

TEST(TargetExpr, GlobInGroupNameIsAnError) {
    EXPECT_THAT(error_of("@db*", {{"db*", "x"}}), HasSubstr("'@db*' may not contain glob"));
}

// ---- Syntax errors -------------------------------------------------------------------------

TEST(TargetExpr, EmptyExpressionIsAnError) {
    EXPECT_EQ(error_of(""), "target '': empty expression at column 1");
    EXPECT_EQ(error_of("   "), "target '   ': empty expression at column 1");
}

TEST(TargetExpr, TrailingOperatorIsAnErrorAtTheEnd) {
    EXPECT_EQ(error_of("web-*&"),
              "target 'web-*&': expected a host, label or group after '&' at column 7");
    EXPECT_THAT(error_of("web-*, "), HasSubstr("after ',' at column 8"));
    EXPECT_THAT(error_of("web-*&!"), HasSubstr("after '!' at column 8"));
}

TEST(TargetExpr, LeadingOrDoubledOperatorIsAnErrorNamingIt) {
    EXPECT_THAT(error_of("&web"),
                HasSubstr("expected a host, label or group, found '&' at column 1"));
    EXPECT_THAT(error_of("a,,b"), HasSubstr("after ',', found ',' at column 3"));
    EXPECT_THAT(error_of("a&,b"), HasSubstr("after '&', found ',' at column 3"));
}

TEST(TargetExpr, UnclosedParenthesisIsAnErrorAtTheParenthesis) {
    EXPECT_EQ(error_of("(a,b"), "target '(a,b': unclosed '(' at column 1");
    EXPECT_THAT(error_of("a&((b)"), HasSubstr("unclosed '(' at column 3"));
}

TEST(TargetExpr, UnmatchedCloseParenthesisIsAnError) {
    EXPECT_THAT(error_of("a)"), HasSubstr("unexpected ')' without a matching '(' at column 2"));
    EXPECT_THAT(error_of("(a))"), HasSubstr("at column 4"));
}

TEST(TargetExpr, EmptyParenthesesAreAnError) {
    EXPECT_THAT(error_of("()"), HasSubstr("after '(', found ')' at column 2"));
}

TEST(TargetExpr, EmptyLabelKeyIsAnError) {
    EXPECT_EQ(error_of("=web"), "target '=web': empty label key before '=' at column 1");
    EXPECT_THAT(error_of("a & !=prod"), HasSubstr("empty label key before '!=' at column 5"));
}

TEST(TargetExpr, MissingLabelValueIsAnError) {
    EXPECT_THAT(error_of("role="), HasSubstr("expected a label value after '=' at column 6"));
    EXPECT_THAT(error_of("env!=&a"),
                HasSubstr("expected a label value after '!=', found '&' at column 6"));
}

TEST(TargetExpr, GlobInLabelKeyIsAnError) {
    EXPECT_THAT(error_of("a,ro*le=web"),
                HasSubstr("label key 'ro*le' may not contain glob characters at column 3"));
}

TEST(TargetExpr, SecondEqualsSignIsAnError) {
    EXPECT_THAT(error_of("a=b=c"), HasSubstr("found '=' at column 4"));
}

TEST(TargetExpr, TermsWithoutAnOperatorBetweenThemAreAnError) {
    EXPECT_THAT(error_of("web 01"),
                HasSubstr("expected '&', ',' or end of input, found '01' at column 5"));
    EXPECT_THAT(error_of("(web 01)"), HasSubstr("expected '&', ',' or ')', found '01'"));
}

TEST(TargetExpr, IllegalCharacterIsAnErrorNamingIt) {
    EXPECT_EQ(error_of("web$01"), "target 'web$01': illegal character '$' at column 4");
    EXPECT_THAT(error_of("a;rm -rf /"), HasSubstr("illegal character ';' at column 2"));
    EXPECT_THAT(error_of("role=\"web\""), HasSubstr("illegal character '\"' at column 6"));
    EXPECT_THAT(error_of("a|b"), HasSubstr("'|' at column 2"));
}

TEST(TargetExpr, NonPrintingBytesAreEscapedInErrors) {
    std::string message = error_of(std::string("web\x01\xff", 5));
    EXPECT_EQ(message, "target 'web\\x01\\xff': illegal character '\\x01' at column 4");
}

TEST(TargetExpr, UnclosedCharacterClassIsAnError) {
    EXPECT_THAT(error_of("web-[12"), HasSubstr("unclosed '[' in 'web-[12' at column 5"));
    EXPECT_THAT(error_of("env=[]"), HasSubstr("unclosed '['"));
    EXPECT_TRUE(matches("x[]]", host("x]")));  // ']' first in a class is a member
}

// ---- Limits --------------------------------------------------------------------------------

TEST(TargetExpr, InputOfTheMaximumLengthParses) {
    std::string name(TargetExpr::kMaxLength, 'a');
    EXPECT_TRUE(matches(name, host(name)));
}

TEST(TargetExpr, LongerInputIsAnErrorThatDoesNotQuoteItAll) {
    std::string message = error_of(std::string(TargetExpr::kMaxLength + 1, 'a'));
    EXPECT_THAT(message, HasSubstr("longer than 4096 characters"));
    EXPECT_LT(message.size(), 200u);
}

TEST(TargetExpr, NestingToTheMaximumDepthParses) {
    std::string expr = repeat("(", 64) + "a" + repeat(")", 64);
    EXPECT_TRUE(matches(expr, host("a")));
    EXPECT_TRUE(matches(repeat("!", 64) + "a", host("a")));
}

TEST(TargetExpr, NestingDeeperIsAnError) {
    std::string expr = repeat("(", 65) + "a" + repeat(")", 65);
    EXPECT_THAT(error_of(expr), HasSubstr("nested deeper than 64 levels at column 65"));
    EXPECT_THAT(error_of(repeat("!", 65) + "a"), HasSubstr("nested deeper than 64 levels"));
}

TEST(TargetExpr, VeryDeepInputIsAnErrorNotACrash) {
    EXPECT_FALSE(TargetExpr::parse(repeat("(", 4000)).ok());
    EXPECT_FALSE(TargetExpr::parse(repeat("!", 4095) + "a").ok());
    EXPECT_FALSE(TargetExpr::parse(repeat("!(", 2000)).ok());
}

TEST(TargetExpr, GroupsCountTowardsTheDepthLimit) {
    Groups groups;
    for (int i = 0; i < 70; ++i) groups["g" + std::to_string(i)] = "@g" + std::to_string(i + 1);
    groups["g70"] = "x";
    EXPECT_THAT(error_of("@g0", groups), HasSubstr("nested deeper than 64 levels"));
    EXPECT_TRUE(matches("@g10", host("x"), groups));  // 60 levels
}

TEST(TargetExpr, ExponentialGroupExpansionIsRefused) {
    Groups groups;
    for (int i = 0; i < 40; ++i)
        groups["g" + std::to_string(i)] =
            "@g" + std::to_string(i + 1) + ",@g" + std::to_string(i + 1);
    groups["g40"] = "x";
    EXPECT_THAT(error_of("@g0", groups), HasSubstr("expands to more than 16384 terms"));
}

TEST(TargetExpr, GroupTextOverTheLengthLimitIsAnError) {
    Groups groups{{"big", std::string(TargetExpr::kMaxLength + 1, 'a')}};
    EXPECT_THAT(error_of("@big", groups), HasSubstr("longer than 4096 characters"));
}

// ---- Random expressions against a reference -----------------------------------------------

// An expression tree the test builds, prints with as few parentheses as the precedence rules
// allow, and evaluates itself, to compare with what TargetExpr makes of the text.
struct RefExpr {
    enum Op { Or = 1, And = 2, Not = 3, Leaf = 4 } op;
    std::string leaf;  // Leaf: a name glob, or key=glob / key!=glob
    std::vector<RefExpr> children;

    bool eval(const Host& h) const {
        switch (op) {
            case Or:
                for (const auto& c : children)
                    if (c.eval(h)) return true;
                return false;
            case And:
                for (const auto& c : children)
                    if (!c.eval(h)) return false;
                return true;
            case Not:
                return !children[0].eval(h);
            case Leaf:
                break;
        }
        auto eq = leaf.find('=');
        if (eq == std::string::npos) return ::fnmatch(leaf.c_str(), h.name.c_str(), 0) == 0;
        bool differs = leaf[eq - 1] == '!';
        std::string key = leaf.substr(0, differs ? eq - 1 : eq);
        auto it = h.labels.find(key);
        bool equal = it != h.labels.end() &&
                     ::fnmatch(leaf.substr(eq + 1).c_str(), it->second.c_str(), 0) == 0;
        return differs ? !equal : equal;
    }

    // Parenthesised only when this binds looser than where it sits (or, sometimes, anyway).
    std::string print(int context, std::mt19937& rng) const {
        std::string out;
        const char* space = rng() % 3 == 0 ? " " : "";
        switch (op) {
            case Leaf:
                out = leaf;
                break;
            case Not:
                out = std::string("!") + space + children[0].print(Not, rng);
                break;
            case And:
            case Or:
                for (std::size_t i = 0; i < children.size(); ++i) {
                    if (i > 0) out += std::string(space) + (op == And ? "&" : ",") + space;
                    out += children[i].print(op, rng);
                }
                break;
        }
        if (op < context || rng() % 8 == 0) out = "(" + out + ")";
        return out;
    }
};

RefExpr random_expr(std::mt19937& rng, int depth) {
    static const std::vector<std::string> leaves{
        "h1", "h2", "h*", "?2", "h[13]", "*", "role=web", "role!=web", "env=p*", "env!=prod"};
    if (depth == 0 || rng() % 3 == 0) return {RefExpr::Leaf, leaves[rng() % leaves.size()], {}};
    switch (rng() % 3) {
        case 0:
            return {RefExpr::Not, "", {random_expr(rng, depth - 1)}};
        default: {
            RefExpr e{rng() % 2 ? RefExpr::And : RefExpr::Or, "", {}};
            for (std::size_t n = 2 + rng() % 3; n > 0; --n)
                e.children.push_back(random_expr(rng, depth - 1));
            return e;
        }
    }
}

TEST(TargetExpr, RandomExpressionsMatchLikeAReferenceEvaluator) {
    const std::vector<Host> hosts{host("h1", {{"role", "web"}, {"env", "prod"}}),
                                  host("h2", {{"role", "db"}, {"env", "preprod"}}),
                                  host("h3", {{"role", "web"}}), host("x2"), host("")};
    std::mt19937 rng(99);
    for (int i = 0; i < 500; ++i) {
        RefExpr ref = random_expr(rng, 6);
        std::string text = ref.print(0, rng);
        auto parsed = TargetExpr::parse(text);
        ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
        for (const Host& h : hosts)
            EXPECT_EQ(parsed->matches(h), ref.eval(h)) << text << " on " << h.name;
    }
}

// ---- Garbage ---------------------------------------------------------------------------------

// Parses and, when it parses, matches: neither may crash, and an error must say something.
void parse_and_match(const std::string& text, const Groups& groups) {
    auto parsed = TargetExpr::parse(text, groups);
    if (!parsed) {
        EXPECT_THAT(parsed.error().message, HasSubstr("target '"));
        return;
    }
    EXPECT_EQ(parsed->text(), text);
    (void)parsed->matches(host("web-01", {{"role", "web"}, {"env", "prod"}}));
    (void)parsed->matches(host(""));
}

TEST(TargetExpr, RandomBytesNeverCrash) {
    std::mt19937 rng(20240611);
    std::uniform_int_distribution<int> length(0, 80);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 2000; ++i) {
        std::string text(static_cast<std::size_t>(length(rng)), '\0');
        for (char& c : text) c = static_cast<char>(byte(rng));
        parse_and_match(text, {});
    }
}

TEST(TargetExpr, RandomTokenSoupNeverCrashes) {
    // Pieces of the grammar, so that many inputs get deep into the parser and some parse.
    const std::vector<std::string> pieces{
        "web-*", "db-0[12]", "a",  "?",  "*", "role", "=", "!=", "!",   "&", ",", "(",
        ")",     "@dbs",     "@a", "@x", " ", "[",    "]", "@",  "env", "=", "$", "prod"};
    Groups groups{{"dbs", "db-*&role=db"}, {"a", "@b,x"}, {"b", "!@a"}};
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> count(0, 24);
    std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
    for (int i = 0; i < 2000; ++i) {
        std::string text;
        for (std::size_t n = count(rng); n > 0; --n) text += pieces[pick(rng)];
        parse_and_match(text, groups);
    }
}

}  // namespace
}  // namespace hostline::target
