#include "chat/net/url.hpp"

#include <gtest/gtest.h>

namespace hostline::chat::net {
namespace {

TEST(Url, SplitsHostPortAndTarget) {
    auto url = parse_url("https://slack.com/api/chat.postMessage?x=1");
    ASSERT_TRUE(url.ok()) << url.error().message;
    EXPECT_EQ(url->scheme, "https");
    EXPECT_EQ(url->host, "slack.com");
    EXPECT_EQ(url->port, 443);
    EXPECT_EQ(url->target, "/api/chat.postMessage?x=1");
    EXPECT_EQ(url->path(), "/api/chat.postMessage");
    EXPECT_EQ(url->authority(), "slack.com:443");
}

TEST(Url, TakesPortsIpv6AndAnEmptyPath) {
    auto url = parse_url("WSS://127.0.0.1:8443");
    ASSERT_TRUE(url.ok()) << url.error().message;
    EXPECT_EQ(url->scheme, "wss");
    EXPECT_EQ(url->port, 8443);
    EXPECT_EQ(url->target, "/");
    auto v6 = parse_url("https://[::1]:9000/x");
    ASSERT_TRUE(v6.ok()) << v6.error().message;
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->authority(), "[::1]:9000");
    auto query_only = parse_url("wss://h?ticket=1");
    ASSERT_TRUE(query_only.ok());
    EXPECT_EQ(query_only->target, "/?ticket=1");
}

TEST(Url, RefusesWhatItCannotUseAndNeverQuotesTheQuery) {
    for (const char* bad :
         {"http://example.com/", "ws://example.com/", "https:///path", "https://h:0/",
          "https://h:70000/", "https://h:/", "https://h:12a/", "https://user:pw@h/",
          "https://h/a#frag", "https://h/a b", "https://[::1/", "example.com", "",
          "https://h/\r\nX: y", "https://[[\xff\xff]:8443/", "https://[abc]/",
          "https://h\xc3\xa9.example/", "https://a%2fb/"}) {
        EXPECT_FALSE(parse_url(bad).ok()) << bad;
    }
    auto refused = parse_url("http://h/link?ticket=SECRET");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message.find("SECRET"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace hostline::chat::net
