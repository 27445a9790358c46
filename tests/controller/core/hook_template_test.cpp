#include "controller/hooks/hook_template.hpp"

#include <gtest/gtest.h>

namespace hostline::controller {
namespace {

using nlohmann::json;

const json kPush = json::parse(R"({
  "ref": "refs/heads/main",
  "pusher": {"name": "octocat"},
  "commits": [{"id": "a1", "message": "fix"}, {"id": "b2", "message": "line one\nline two"}],
  "repository": {"full_name": "acme/site", "private": false, "stars": 42, "topics": [],
                 "owner": {"login": "acme"}, "homepage": null, "description": "café"}
})");

std::string render(const std::string& text, const json& body = kPush) {
    auto out = render_hook_template(text, body);
    return out ? *out : "ERROR: " + out.error().message;
}

TEST(HookTemplate, DottedPathsIndexesAndLengths) {
    EXPECT_EQ(render("{{pusher.name}} pushed {{commits.length}} commit(s) to "
                     "{{repository.full_name}}"),
              "octocat pushed 2 commit(s) to acme/site");
    EXPECT_EQ(render("first: {{commits.0.id}}, last: {{ commits.1.id }}"), "first: a1, last: b2");
    EXPECT_EQ(render("{{repository.description.length}} letters"), "4 letters");
    EXPECT_EQ(render("{{repository.topics.length}}"), "0");
    EXPECT_EQ(render("no placeholders"), "no placeholders");
}

TEST(HookTemplate, ValuesArePrintedAsPlainText) {
    EXPECT_EQ(render("{{repository.stars}} {{repository.private}}"), "42 false");
    EXPECT_EQ(render("[{{repository.homepage}}]"), "[]") << "null is empty";
    // A value is never read as a template itself.
    EXPECT_EQ(render("{{a}}", json{{"a", "{{b}}"}, {"b", "no"}}), "{{b}}");
}

TEST(HookTemplate, AnUnknownPathOrAnObjectIsAnError) {
    EXPECT_EQ(render("{{pusher.email}}"), "ERROR: {{pusher.email}}: the body has no 'email' there");
    EXPECT_EQ(render("{{commits.2.id}}"), "ERROR: {{commits.2.id}}: the body has no '2' there");
    EXPECT_EQ(render("{{ref.name}}"), "ERROR: {{ref.name}}: the body has no 'name' there");
    EXPECT_EQ(render("{{repository.owner}}"),
              "ERROR: {{repository.owner}} is an object, not a value; name one of its members");
    EXPECT_EQ(render("{{commits}}"),
              "ERROR: {{commits}} is an array, not a value; name one of its members");
    EXPECT_EQ(render("{{x}}", json::array()), "ERROR: {{x}}: the body has no 'x' there");
}

TEST(HookTemplate, MalformedTemplatesAreRefused) {
    for (const char* bad : {"{{", "{{a", "a}}", "{{}}", "{{ }}", "{{a..b}}", "{{.a}}", "{{a.}}",
                            "{{a b}}", "{{{a}}}"}) {
        EXPECT_FALSE(check_hook_template(bad).ok()) << bad;
        EXPECT_FALSE(render_hook_template(bad, kPush).ok()) << bad;
    }
    EXPECT_TRUE(check_hook_template("{{a.0.b}} and {{c.length}}").ok());
    EXPECT_TRUE(check_hook_template("").ok());
}

TEST(HookTemplate, ControlCharactersAreStrippedAndTheLengthCapped) {
    EXPECT_EQ(render("{{commits.1.message}}"), "line oneline two");
    EXPECT_EQ(render("{{a}}", json{{"a", "bell\x07 esc\x1b[31m del\x7f"}}), "bell esc[31m del");
    const json big{{"a", std::string(5000, 'x')}};
    EXPECT_EQ(render("{{a}}", big).size(), kHookTextCap);
    // The cap never cuts a UTF-8 sequence in half.
    auto cut = render_hook_template("{{a}}", json{{"a", "aé"}}, 2);
    ASSERT_TRUE(cut.ok());
    EXPECT_EQ(*cut, "a");
}

}  // namespace
}  // namespace hostline::controller
