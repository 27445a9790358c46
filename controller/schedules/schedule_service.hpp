// The schedule service: ScheduleDesk for the chat, the API and the CLI, and the firings
// (docs/scheduling.md, Schedules).
//
// Every schedule is held in memory with its parsed cron expression; the store keeps the copy
// that survives a restart (changes are answered once committed). One timer waits for the
// soonest firing of all schedules, never longer than a minute, so a change of the wall clock
// is noticed. A due schedule is fired through `fire`, which runs its command as its owner in
// its channel (the chat service: bound against the catalog and decided by the policy in force
// then); the outcome is audited ("schedule.fired" with the job, or "schedule.refused" with the
// reason) and the next firing computed after it.
//
// At start (restore), firings that fell between a schedule's last firing and now are missed:
// audited as "schedule.missed" with their count and skipped, or, for a schedule with
// run_missed, run once shortly after start (catch_up_delay).
//
// Threads: the controller's io_context thread only; callbacks run there.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>

#include "controller/catalog/catalog.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/schedule_desk.hpp"
#include "controller/schedules/cron.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {

class ScheduleService final : public ScheduleDesk {
  public:
    // Runs a firing's command now; returns the job it started, or why nothing ran (the
    // channel has been told). In the controller: ChatService::run_scheduled.
    using Fire = std::function<Result<std::int64_t>(const Schedule&)>;
    using WallClock = std::function<std::chrono::system_clock::time_point()>;

    // store, catalog and audit must outlive the service. catch_up_delay: how long after start
    // a run_missed schedule's one firing waits, so that the agents connected before the
    // restart have said hello again (the controller passes two heartbeats); a firing at once
    // would find every host offline. clock is the wall clock firings are computed in (tests
    // pass a fake one; the timer itself always waits in real time).
    ScheduleService(
        boost::asio::io_context& io, Store& store, const Catalog& catalog, AuditTrail& audit,
        Fire fire, std::chrono::milliseconds catch_up_delay,
        WallClock clock = [] { return std::chrono::system_clock::now(); });
    ~ScheduleService() override;

    // Takes the stored schedules (StoreSnapshot::schedules and max_schedule_id), handles the
    // firings missed while the controller was down, and starts the timer. Called once, first.
    void restore(std::vector<Schedule> stored, std::int64_t max_schedule_id);
    // Stops the timer: nothing fires afterwards.
    void stop();

    void add_schedule(const NewSchedule& schedule, Callback<Schedule> done) override;
    std::vector<Schedule> schedules() const override;
    std::optional<Schedule> schedule(const std::string& name) const override;
    void pause_schedule(const std::string& name, Callback<Schedule> done) override;
    void resume_schedule(const std::string& name, Callback<Schedule> done) override;
    void remove_schedule(const std::string& name, Callback<Schedule> done) override;
    Result<std::vector<std::int64_t>> next_firings(const std::string& name,
                                                   int count) const override;

  private:
    struct Entry {
        Schedule schedule;
        std::optional<CronSchedule> cron;  // empty: the stored expression no longer parses
    };

    Entry* find(const std::string& name);
    const Entry* find(const std::string& name) const;
    // The first firing strictly after `after`, in Unix ms; 0 when there is none.
    std::int64_t next_after(const Entry& entry, std::int64_t after_ms) const;
    std::string name_for(const std::vector<std::string>& command) const;
    // Saves the schedule and answers done with it once committed.
    void save(const Schedule& schedule, Callback<Schedule> done);
    void fire(Entry& entry, std::int64_t now);
    void arm();
    void on_timer();
    std::int64_t now_ms() const;

    Store& store_;
    const Catalog& catalog_;
    AuditTrail& audit_;
    const Fire fire_;
    const std::chrono::milliseconds catch_up_delay_;
    const WallClock clock_;
    boost::asio::steady_timer timer_;

    std::map<std::int64_t, Entry> entries_;  // by id, so oldest first
    std::int64_t last_id_ = 0;
    bool stopped_ = false;
};

}  // namespace hostline::controller
