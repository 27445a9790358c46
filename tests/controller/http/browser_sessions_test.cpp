// The browser session store (expiry, the cap, closing, the CSRF compare) with a clock the test
// moves, and the Cookie header parser with what browsers and attackers send.
#include "controller/http/browser_sessions.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "controller/http/cookie_header.hpp"

namespace hostline::controller::http {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;

class BrowserSessionsTest : public ::testing::Test {
  protected:
    BrowserSessions make(BrowserSessionLimits limits) {
        return BrowserSessions(limits, [this] { return now; });
    }
    std::int64_t now = 1'800'000'000'000;  // 2027-01-15, epoch ms
};

bool is_hex64(const std::string& text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST_F(BrowserSessionsTest, AnOpenedSessionIsFoundByItsIdWithItsSecretAndCsrf) {
    auto sessions = make({});
    const auto opened = sessions.open("secret-1");
    EXPECT_TRUE(is_hex64(opened.id)) << opened.id;
    EXPECT_TRUE(is_hex64(opened.session.csrf)) << opened.session.csrf;
    EXPECT_NE(opened.id, opened.session.csrf);
    EXPECT_EQ(opened.session.expires_ms, now + 12 * kHour);

    const auto found = sessions.use(opened.id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->secret, "secret-1");
    EXPECT_EQ(found->csrf, opened.session.csrf);
    EXPECT_FALSE(sessions.use(opened.session.csrf)) << "the CSRF token is not an id";
    EXPECT_FALSE(sessions.use(""));
    EXPECT_FALSE(sessions.use(opened.id.substr(0, 63)));
}

TEST_F(BrowserSessionsTest, IdsAndCsrfTokensAreNeverRepeated) {
    auto sessions = make({});
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
        const auto opened = sessions.open("s");
        EXPECT_TRUE(seen.insert(opened.id).second);
        EXPECT_TRUE(seen.insert(opened.session.csrf).second);
    }
}

TEST_F(BrowserSessionsTest, AnIdleSessionEndsAfterTheIdleTimeoutAndUseRestartsIt) {
    auto sessions = make({.idle_ms = kHour, .max_ms = 24 * kHour});
    const auto opened = sessions.open("s");
    now += kHour - 1;
    const auto used = sessions.use(opened.id);
    ASSERT_TRUE(used) << "one millisecond before the idle timeout it still works";
    EXPECT_EQ(used->expires_ms, now + kHour) << "and its idle time starts again";
    now += kHour - 1;
    EXPECT_TRUE(sessions.use(opened.id));
    now += kHour;
    EXPECT_FALSE(sessions.use(opened.id)) << "unused for the idle timeout, it has ended";
    EXPECT_EQ(sessions.size(), 0u) << "and is removed";
    now -= kHour;
    EXPECT_FALSE(sessions.use(opened.id)) << "an ended session does not come back";
}

TEST_F(BrowserSessionsTest, ASessionInUseEndsAtItsAbsoluteLifetime) {
    auto sessions = make({.idle_ms = kHour, .max_ms = 3 * kHour});
    const auto opened = sessions.open("s");
    for (int i = 0; i < 5; ++i) {
        now += 30 * kMinute;
        ASSERT_TRUE(sessions.use(opened.id)) << i;
    }
    now += 29 * kMinute;  // 2h59m after login, used every half hour
    const auto last = sessions.use(opened.id);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->expires_ms, opened.session.expires_ms + 2 * kHour)
        << "the lifetime, not the idle timeout, is the nearer end now";
    now += kMinute;
    EXPECT_FALSE(sessions.use(opened.id));
}

TEST_F(BrowserSessionsTest, SweepRemovesOnlyExpiredSessions) {
    auto sessions = make({.idle_ms = kHour, .max_ms = 24 * kHour});
    const auto old_one = sessions.open("old");
    now += 50 * kMinute;
    const auto new_one = sessions.open("new");
    now += 20 * kMinute;
    sessions.sweep();
    EXPECT_EQ(sessions.size(), 1u);
    EXPECT_FALSE(sessions.use(old_one.id));
    EXPECT_TRUE(sessions.use(new_one.id));
}

TEST_F(BrowserSessionsTest, OpeningSweepsExpiredSessionsWithoutAnyoneAskingForThem) {
    auto sessions = make({.idle_ms = kHour, .max_ms = 24 * kHour});
    for (int i = 0; i < 10; ++i) sessions.open("s");
    now += 2 * kHour;
    sessions.open("s");
    EXPECT_EQ(sessions.size(), 1u);
}

TEST_F(BrowserSessionsTest, AtTheCapTheSessionIdleLongestIsDropped) {
    auto sessions = make({.capacity = 3});
    const auto a = sessions.open("a");
    now += kMinute;
    const auto b = sessions.open("b");
    now += kMinute;
    const auto c = sessions.open("c");
    now += kMinute;
    ASSERT_TRUE(sessions.use(a.id));  // a is the oldest, but b has been idle longest
    now += kMinute;
    const auto d = sessions.open("d");
    EXPECT_EQ(sessions.size(), 3u);
    EXPECT_FALSE(sessions.use(b.id));
    EXPECT_TRUE(sessions.use(a.id));
    EXPECT_TRUE(sessions.use(c.id));
    EXPECT_TRUE(sessions.use(d.id));
}

TEST_F(BrowserSessionsTest, TheDefaultCapIsTenThousand) {
    auto sessions = make({});
    const auto first = sessions.open("first");
    for (int i = 0; i < 10'000; ++i) {
        now += 1;
        sessions.open("s");
    }
    EXPECT_EQ(sessions.size(), 10'000u);
    EXPECT_FALSE(sessions.use(first.id));
}

TEST_F(BrowserSessionsTest, ClosingEndsOnlyThatSession) {
    auto sessions = make({});
    const auto mine = sessions.open("mine");
    const auto other = sessions.open("other");
    EXPECT_TRUE(sessions.close(mine.id));
    EXPECT_FALSE(sessions.use(mine.id));
    EXPECT_FALSE(sessions.close(mine.id)) << "closing twice finds nothing the second time";
    EXPECT_TRUE(sessions.use(other.id));
}

TEST_F(BrowserSessionsTest, CsrfMatchesOnlyTheExactToken) {
    auto sessions = make({});
    const auto opened = sessions.open("s");
    const auto& csrf = opened.session.csrf;
    EXPECT_TRUE(BrowserSessions::csrf_matches(opened.session, csrf));
    EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, ""));
    EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, csrf.substr(0, 63)));
    EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, csrf + "0"));
    std::string flipped = csrf;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, flipped));
    std::string upper = csrf;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (upper != csrf) {
        EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, upper));
    }
    EXPECT_FALSE(BrowserSessions::csrf_matches(opened.session, opened.id));
    EXPECT_FALSE(BrowserSessions::csrf_matches(BrowserSession{"", "s", 0}, ""))
        << "a session without a CSRF token matches nothing, not even nothing";
}

using Pairs = std::vector<CookiePair>;

TEST(CookieHeader, ReadsPairsAsBrowsersSendThem) {
    EXPECT_EQ(parse_cookie_header("a=b"), (Pairs{{"a", "b"}}));
    EXPECT_EQ(parse_cookie_header("a=b; c=d"), (Pairs{{"a", "b"}, {"c", "d"}}));
    EXPECT_EQ(parse_cookie_header("a=b;c=d;e="), (Pairs{{"a", "b"}, {"c", "d"}, {"e", ""}}));
    EXPECT_EQ(parse_cookie_header("  a = b ;\tc=d  "), (Pairs{{"a", "b"}, {"c", "d"}}));
    EXPECT_EQ(parse_cookie_header("a=\"quoted\""), (Pairs{{"a", "quoted"}}));
    EXPECT_EQ(parse_cookie_header("a=x=y"), (Pairs{{"a", "x=y"}})) << "split at the first '='";
    EXPECT_EQ(parse_cookie_header(""), Pairs{});
    EXPECT_EQ(parse_cookie_header(";;; ;"), Pairs{});
}

TEST(CookieHeader, SkipsMalformedPairsAndKeepsTheRest) {
    EXPECT_EQ(parse_cookie_header("novalue; a=b"), (Pairs{{"a", "b"}}));
    EXPECT_EQ(parse_cookie_header("=b; a=b"), (Pairs{{"a", "b"}})) << "empty name";
    EXPECT_EQ(parse_cookie_header("a b=c; d=e"), (Pairs{{"d", "e"}})) << "space inside a name";
    EXPECT_EQ(parse_cookie_header("a=b c; d=e"), (Pairs{{"d", "e"}})) << "space inside a value";
    EXPECT_EQ(parse_cookie_header("a=\"b; d=e"), (Pairs{{"d", "e"}})) << "an unclosed quote";
    EXPECT_EQ(parse_cookie_header("a=b,c; d=e"), (Pairs{{"d", "e"}}));
    EXPECT_EQ(parse_cookie_header("a=b\\c; d=e"), (Pairs{{"d", "e"}}));
    EXPECT_EQ(parse_cookie_header(std::string_view("a=b\0c; d=e", 10)), (Pairs{{"d", "e"}}));
    EXPECT_EQ(parse_cookie_header("a=\x01; d=e"), (Pairs{{"d", "e"}}));
    EXPECT_EQ(parse_cookie_header("a=\xc3\xa9; d=e"), (Pairs{{"d", "e"}})) << "non-ASCII";
    EXPECT_EQ(parse_cookie_header("a\"=b; d=e"), (Pairs{{"d", "e"}}));
    EXPECT_EQ(parse_cookie_header("\""), Pairs{});
    EXPECT_EQ(parse_cookie_header("a=\""), Pairs{});
    EXPECT_EQ(parse_cookie_header("a=\"\""), (Pairs{{"a", ""}}));
}

TEST(CookieHeader, FindsEveryValueOfANameAcrossHeadersAndNothingElse) {
    EXPECT_EQ(cookie_values({"x=1; hostline_session=abc; y=2"}, "hostline_session"),
              std::vector<std::string_view>{"abc"});
    EXPECT_EQ(cookie_values({"x=1", "hostline_session=abc"}, "hostline_session"),
              std::vector<std::string_view>{"abc"});
    EXPECT_EQ(cookie_values({"hostline_session=a; hostline_session=b"}, "hostline_session"),
              (std::vector<std::string_view>{"a", "b"}));
    EXPECT_TRUE(cookie_values({"Hostline_Session=abc"}, "hostline_session").empty())
        << "cookie names are case-sensitive";
    EXPECT_TRUE(
        cookie_values({"hostline_session_x=abc; xhostline_session=d"}, "hostline_session").empty());
    EXPECT_TRUE(cookie_values({}, "hostline_session").empty());
}

}  // namespace
}  // namespace hostline::controller::http
