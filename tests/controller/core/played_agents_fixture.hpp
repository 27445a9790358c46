// A scheduler over the real SQLite store, on this test's io_context, with the agents played by
// the test: their hellos and results are fed in as the transport would, and what the scheduler
// sends them is recorded. open() again is a controller restart over the same database.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller::testing {

class PlayedAgentsFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-played-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
    }
    void TearDown() override {
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    // Opens the store and a scheduler over it, restored from what the store holds. Commands
    // named in `rules` have them (the catalog's concurrency and retries); others the defaults.
    void open(SchedulerConfig config = {}, std::map<std::string, CommandRules> rules = {}) {
        scheduler_.reset();
        store_.reset();
        sent_.clear();
        auto store = Store::open(dir_ + "/hostline.db", [this](std::function<void()> f) {
            boost::asio::post(io_, std::move(f));
        });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string& agent, proto::Message m) {
                sent_.emplace_back(agent, std::move(m));
            },
            config);
        if (!rules.empty())
            scheduler_->set_command_rules([rules](const std::string& command) {
                auto it = rules.find(command);
                return it == rules.end() ? CommandRules{} : it->second;
            });
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok());
        scheduler_->restore(*snapshot);
        scheduler_->start();
    }

    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(std::chrono::milliseconds(5));
        }
        return pred();
    }
    // Lets what is under way happen.
    void settle(std::chrono::milliseconds time = std::chrono::milliseconds(100)) {
        run_until([] { return false; }, time);
    }

    void hello(const std::string& agent, std::uint32_t capacity = 4,
               std::vector<proto::HeldRun> held = {}) {
        proto::Hello h;
        h.agent_id = agent;
        h.capacity = capacity;
        h.runs = std::move(held);
        scheduler_->on_agent_message(agent, h);
    }

    struct Sent {
        std::string agent;
        proto::Run run;
    };
    // The runs sent to agents so far, in order.
    std::vector<Sent> runs_sent() const {
        std::vector<Sent> out;
        for (const auto& [agent, m] : sent_)
            if (const auto* run = std::get_if<proto::Run>(&m)) out.push_back({agent, *run});
        return out;
    }

    // The agent reports the run ended: "exited" with exit_code, or another status
    // ("cancelled", "timed_out").
    void finish(const std::string& agent, std::uint64_t run_id, int exit_code,
                const std::string& status = "exited") {
        proto::RunResult r;
        r.run_id = run_id;
        r.seq = 1;
        r.status = status;
        r.exit_code = exit_code;
        scheduler_->on_agent_message(agent, r);
    }

    JobDetail detail(std::int64_t job_id) {
        std::optional<Result<JobDetail>> got;
        scheduler_->job(job_id, [&](Result<JobDetail> d) { got = std::move(d); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        EXPECT_TRUE(got.has_value() && got->ok());
        return got.has_value() && got->ok() ? got->value() : JobDetail{};
    }

    // `true` on target as token:admin; `command` names its catalog command.
    static SubmitRequest request(std::string target, std::string command = "") {
        SubmitRequest r;
        r.requester = "token:admin";
        r.source = "test";
        r.target = std::move(target);
        r.argv = {"true"};
        r.command = std::move(command);
        return r;
    }

    std::string dir_;
    boost::asio::io_context io_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
};

}  // namespace hostline::controller::testing
