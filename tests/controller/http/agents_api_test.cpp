// One agent and draining over the real pieces: an HttpServer on port 0, a real Scheduler over
// the SQLite store and its audit trail, an agent played by the test (its hello fed in as the
// transport would), and a real HTTP client. The io_context runs on its own thread.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controller/http/api_server_fixture.hpp"

namespace hostline::controller {
namespace {

using namespace hostline::controller::api_test;

class AgentsApiTest : public ApiServerFixture {
  protected:
    AgentsApiTest() : ApiServerFixture("agents-api", false) {}

    void SetUp() override {
        ApiServerFixture::SetUp();
        on_io([this] {
            proto::Hello hello;
            hello.agent_id = "web-1";
            hello.capacity = 2;
            hello.hostname = "web-1.example";
            scheduler_->on_agent_message("web-1", hello);
        });
    }
};

TEST_F(AgentsApiTest, OneAgentIsShownByNameAndAnUnknownOneIs404) {
    const auto one = call(bhttp::verb::get, "/api/v1/agents/web-1");
    ASSERT_EQ(one.status, 200u) << one.body.dump();
    EXPECT_EQ(one.body["agent"]["name"], "web-1");
    EXPECT_EQ(one.body["agent"]["hostname"], "web-1.example");
    EXPECT_EQ(one.body["agent"]["online"], true);
    EXPECT_EQ(one.body["agent"]["draining"], false);

    const auto unknown = call(bhttp::verb::get, "/api/v1/agents/db-9");
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(unknown.body["error"]["message"], "there is no agent named 'db-9'");
}

TEST_F(AgentsApiTest, ADrainedAgentIsSkippedByNewJobsUntilUndrained) {
    const auto drained = call(bhttp::verb::post, "/api/v1/agents/web-1/drain");
    ASSERT_EQ(drained.status, 200u) << drained.body.dump();
    EXPECT_EQ(drained.body["agent"]["draining"], true);
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents").body["agents"][0]["draining"], true);

    const auto submitted = call(bhttp::verb::post, "/api/v1/jobs", kAdmin,
                                R"({"target": "web-1", "argv": ["uptime"]})");
    ASSERT_EQ(submitted.status, 201u) << submitted.body.dump();
    EXPECT_EQ(submitted.body["matched"], json::array());
    EXPECT_EQ(submitted.body["offline"], json::array({"web-1"}));
    const auto job =
        call(bhttp::verb::get, "/api/v1/jobs/" + std::to_string(submitted.body["job"].get<int>()));
    ASSERT_EQ(job.status, 200u);
    EXPECT_EQ(job.body["runs"][0]["state"], "skipped");
    EXPECT_EQ(job.body["runs"][0]["error"], "agent web-1 is draining");

    const auto undrained = call(bhttp::verb::post, "/api/v1/agents/web-1/undrain");
    ASSERT_EQ(undrained.status, 200u);
    EXPECT_EQ(undrained.body["agent"]["draining"], false);
    const auto after = call(bhttp::verb::post, "/api/v1/jobs", kAdmin,
                            R"({"target": "web-1", "argv": ["uptime"]})");
    EXPECT_EQ(after.body["matched"], json::array({"web-1"}));

    const auto audit = call(bhttp::verb::get, "/api/v1/audit?kind=agent.drained");
    ASSERT_EQ(audit.body["events"].size(), 1u) << audit.body.dump();
    EXPECT_EQ(audit.body["events"][0]["actor"], "token:admin");
    EXPECT_EQ(audit.body["events"][0]["subject"], "agent:web-1");

    EXPECT_EQ(call(bhttp::verb::post, "/api/v1/agents/db-9/drain").status, 404u);
}

// A fleet is listed a page at a time by name; the pages together are every agent once.
TEST_F(AgentsApiTest, AgentsArePagedByNameWithNextAfter) {
    on_io([this] {
        for (const char* name : {"db-1", "db-2", "web-2", "web-3"}) {
            proto::Hello hello;
            hello.agent_id = name;
            hello.capacity = 1;
            scheduler_->on_agent_message(name, hello);
        }
    });
    const auto names = [](const json& page) {
        std::vector<std::string> out;
        for (const auto& agent : page["agents"]) out.push_back(agent["name"]);
        return out;
    };
    Answer first = call(bhttp::verb::get, "/api/v1/agents?limit=2");
    ASSERT_EQ(first.status, 200u) << first.body.dump();
    EXPECT_EQ(names(first.body), (std::vector<std::string>{"db-1", "db-2"}));
    EXPECT_EQ(first.body["next_after"], "db-2");
    EXPECT_TRUE(first.body["keys"].is_array());
    Answer second = call(bhttp::verb::get, "/api/v1/agents?limit=2&after=db-2");
    EXPECT_EQ(names(second.body), (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_EQ(second.body["next_after"], "web-2");
    Answer last = call(bhttp::verb::get, "/api/v1/agents?limit=2&after=web-2");
    EXPECT_EQ(names(last.body), (std::vector<std::string>{"web-3"}));
    EXPECT_TRUE(last.body["next_after"].is_null());
    // A name between two agents starts after it; past the last, the page is empty.
    EXPECT_EQ(names(call(bhttp::verb::get, "/api/v1/agents?after=db-9").body),
              (std::vector<std::string>{"web-1", "web-2", "web-3"}));
    EXPECT_EQ(names(call(bhttp::verb::get, "/api/v1/agents?after=zz").body),
              std::vector<std::string>{});
    // Default: a page of 500, so five agents come in one page.
    Answer all = call(bhttp::verb::get, "/api/v1/agents");
    EXPECT_EQ(all.body["agents"].size(), 5u);
    EXPECT_TRUE(all.body["next_after"].is_null());
}

TEST_F(AgentsApiTest, ABadPageOrAParameterGivenTwiceIs400) {
    Answer unknown = call(bhttp::verb::get, "/api/v1/agents?page=2");
    EXPECT_EQ(unknown.status, 400u);
    EXPECT_EQ(unknown.body["error"]["message"],
              "unknown query parameter 'page'; expected after or limit");
    EXPECT_EQ(call(bhttp::verb::get, "/api/v1/agents?limit=0").status, 400u);
    Answer twice = call(bhttp::verb::get, "/api/v1/jobs?state=failed&state=running");
    EXPECT_EQ(twice.status, 400u);
    EXPECT_EQ(twice.body["error"]["message"],
              "the query parameter 'state' is given twice; give it once (a list of states is "
              "comma-separated: state=failed,timed_out)");
}

}  // namespace
}  // namespace hostline::controller
