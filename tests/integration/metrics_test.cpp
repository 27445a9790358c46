// GET /metrics end to end: the real controller and agents, scraped the way Prometheus does,
// the text parsed line by line as the exposition format defines it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "integration/cluster_test.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using Labels = std::map<std::string, std::string>;

// One scrape, parsed: every sample by name and labels, and each family's # TYPE.
struct Scrape {
    std::map<std::string, std::string> types;
    std::map<std::pair<std::string, Labels>, double> samples;

    // The sample's value; a failure (and 0) when the scrape does not have it.
    double value(const std::string& name, const Labels& labels = {}) const {
        auto it = samples.find({name, labels});
        if (it == samples.end()) {
            ADD_FAILURE() << "no sample " << name << " with " << labels.size() << " label(s)";
            return 0;
        }
        return it->second;
    }
};

// The text exposition format 0.0.4: `# HELP`/`# TYPE` lines, and `name{l="v",...} value`
// samples, label values with \\ \" \n escaped. Anything else is a failure.
Scrape parse_exposition(const std::string& text) {
    Scrape scrape;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (end == std::string::npos) {
            ADD_FAILURE() << "the exposition does not end with a newline";
            break;
        }
        const std::string line = text.substr(at, end - at);
        at = end + 1;
        if (line.empty()) continue;
        if (line.starts_with("# TYPE ")) {
            const std::string rest = line.substr(7);
            const auto space = rest.find(' ');
            scrape.types[rest.substr(0, space)] = rest.substr(space + 1);
            continue;
        }
        if (line.starts_with("#")) continue;
        std::size_t i = line.find_first_of("{ ");
        if (i == std::string::npos) {
            ADD_FAILURE() << "not a sample: " << line;
            continue;
        }
        const std::string name = line.substr(0, i);
        Labels labels;
        if (line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const auto eq = line.find("=\"", i);
                if (eq == std::string::npos) break;
                const std::string label = line.substr(i, eq - i);
                std::string value;
                for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
                    if (line[i] == '\\' && i + 1 < line.size()) {
                        ++i;
                        value += line[i] == 'n' ? '\n' : line[i];
                    } else {
                        value += line[i];
                    }
                }
                labels[label] = value;
                ++i;  // the closing quote
                if (i < line.size() && line[i] == ',') ++i;
            }
            ++i;  // the closing brace
        }
        if (i >= line.size() || line[i] != ' ') {
            ADD_FAILURE() << "not a sample: " << line;
            continue;
        }
        const std::string number = line.substr(i + 1);
        double value = 0;
        if (number == "+Inf")
            value = HUGE_VAL;
        else if (number == "-Inf")
            value = -HUGE_VAL;
        else {
            char* stop = nullptr;
            value = std::strtod(number.c_str(), &stop);
            if (stop == number.c_str() || *stop != '\0')
                ADD_FAILURE() << "not a number in: " << line;
        }
        if (!scrape.samples.emplace(std::make_pair(name, labels), value).second)
            ADD_FAILURE() << "a sample twice: " << line;
    }
    // Every sample belongs to a family with a # TYPE (a histogram's by its base name).
    for (const auto& [key, value] : scrape.samples) {
        std::string family = key.first;
        for (const char* suffix : {"_bucket", "_sum", "_count"})
            if (family.ends_with(suffix) && !scrape.types.contains(family))
                family = family.substr(0, family.size() - std::strlen(suffix));
        EXPECT_TRUE(scrape.types.contains(family)) << key.first << " has no # TYPE";
    }
    return scrape;
}

class Metrics : public ClusterTest {
  protected:
    Scrape scrape(const std::string& token) {
        HttpReply reply = cluster.http_get("/metrics", token);
        EXPECT_EQ(reply.status, 200) << reply.body;
        EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
        return parse_exposition(reply.body);
    }
};

TEST_F(Metrics, CountersAndHistogramsMoveByExactlyWhatTheJobsDid) {
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.add_agent("a2");
    cluster.wait_online({"a1", "a2"});
    const std::string token = cluster.admin_secret();

    const Scrape before = scrape(token);
    EXPECT_EQ(before.types.at("hostline_jobs_total"), "counter");
    EXPECT_EQ(before.types.at("hostline_agents"), "gauge");
    EXPECT_EQ(before.types.at("hostline_dispatch_seconds"), "histogram");

    int exit_code = -1;
    auto ok = cluster.cli_json({"run", "--on", "a*", "--", "true"}, &exit_code);
    ASSERT_EQ(exit_code, 0) << ok.dump();
    auto failed = cluster.cli_json({"run", "--on", "a1", "--", "sh", "-c", "exit 4"}, &exit_code);
    ASSERT_EQ(exit_code, 1) << failed.dump();
    EXPECT_EQ(failed["job"]["state"], "failed");
    cluster.chat("local:ops", "!help");

    const Scrape after = scrape(token);
    auto delta = [&](const std::string& name, const Labels& labels = {}) {
        return after.value(name, labels) - before.value(name, labels);
    };
    EXPECT_EQ(delta("hostline_jobs_total", {{"state", "succeeded"}}), 1);
    EXPECT_EQ(delta("hostline_jobs_total", {{"state", "failed"}}), 1);
    for (const char* state : {"partial", "timed_out", "cancelled", "denied", "expired"})
        EXPECT_EQ(delta("hostline_jobs_total", {{"state", state}}), 0) << state;
    EXPECT_EQ(delta("hostline_runs_total", {{"state", "succeeded"}}), 2);
    EXPECT_EQ(delta("hostline_runs_total", {{"state", "failed"}}), 1);
    for (const char* state : {"timed_out", "cancelled", "lost", "skipped"})
        EXPECT_EQ(delta("hostline_runs_total", {{"state", state}}), 0) << state;
    EXPECT_EQ(after.value("hostline_agents", {{"state", "online"}}), 2);
    EXPECT_EQ(after.value("hostline_agents", {{"state", "offline"}}), 0);
    EXPECT_EQ(after.value("hostline_jobs_active"), 0);
    EXPECT_EQ(after.value("hostline_runs_queued"), 0);
    EXPECT_EQ(after.value("hostline_agent_heartbeat_seconds"), 0.5) << "the cluster's 500 ms";

    EXPECT_EQ(delta("hostline_dispatch_seconds_count"), 3);
    EXPECT_EQ(delta("hostline_dispatch_seconds_bucket", {{"le", "+Inf"}}), 3);
    EXPECT_GT(delta("hostline_dispatch_seconds_sum"), 0);
    EXPECT_EQ(delta("hostline_run_seconds_count"), 3);
    EXPECT_GE(delta("hostline_run_seconds_sum"), 0);
    EXPECT_GT(delta("hostline_store_commit_seconds_count"), 0);
    EXPECT_GE(after.value("hostline_store_queue_depth"), 0);
    EXPECT_EQ(delta("hostline_chat_messages_total", {{"adapter", "local"}}), 1);
}

TEST_F(Metrics, ScrapingNeedsATokenHoldingMetricsRead) {
    cluster.set_policy(
        "[roles.viewer]\npermissions = [\"jobs.read\"]\n"
        "[roles.scraper]\npermissions = [\"metrics.read\"]\n"
        "[groups.viewers]\nmembers = [\"local:viewer\"]\nroles = [\"viewer\"]\n"
        "[groups.scrapers]\nmembers = [\"local:prometheus\"]\nroles = [\"scraper\"]\n");
    cluster.start_controller();
    auto secret_for = [&](const std::string& name, const std::string& identity) {
        CommandResult created = cluster.cli({"tokens", "create", name, "--identity", identity});
        EXPECT_EQ(created.exit_code, 0) << created.err;
        return created.out.substr(0, created.out.find('\n'));
    };
    const std::string viewer = secret_for("viewer", "local:viewer");
    const std::string prometheus = secret_for("prometheus", "local:prometheus");

    HttpReply none = cluster.http_get("/metrics", "");
    EXPECT_EQ(none.status, 401) << none.body;
    EXPECT_EQ(none.body.find("hostline_jobs_total"), std::string::npos);
    HttpReply wrong = cluster.http_get("/metrics", "not-a-token");
    EXPECT_EQ(wrong.status, 401) << wrong.body;
    HttpReply lacking = cluster.http_get("/metrics", viewer);
    EXPECT_EQ(lacking.status, 403) << lacking.body;
    EXPECT_NE(lacking.body.find("metrics.read"), std::string::npos) << lacking.body;

    const Scrape scraped = scrape(prometheus);
    EXPECT_EQ(scraped.value("hostline_agents", {{"state", "online"}}), 0);
    (void)scrape(cluster.admin_secret());  // admin holds everything
}

TEST_F(Metrics, MetricsPublicOpensTheScrapeWithoutAToken) {
    // Appended to the [http] table the cluster's controller.toml ends with.
    cluster.add_controller_config("metrics_public = true\n");
    cluster.start_controller();
    cluster.add_agent("a1");
    cluster.wait_online({"a1"});

    const Scrape scraped = scrape("");
    EXPECT_EQ(scraped.value("hostline_agents", {{"state", "online"}}), 1);
    // Only /metrics: the API still needs its token.
    EXPECT_EQ(cluster.http_get("/api/v1/agents", "").status, 401);
}

}  // namespace
}  // namespace hostline::testing
