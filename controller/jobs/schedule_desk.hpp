// Where schedules are kept and changed: what the chat (!schedule), the HTTP API
// (/api/v1/schedules) and the CLI (through the API) ask of the schedule service
// (docs/scheduling.md). Policy is asked by the callers for the change itself
// (schedules.manage, or being the owner); the service asks it again as the owner at each firing.
//
// Threads: every method is called on the controller's io_context thread; callbacks run there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/jobs/job_service.hpp"

namespace hostline::controller {

struct Schedule {
    std::int64_t id = 0;
    std::string name;        // unique; [a-z0-9][a-z0-9-]{0,62}
    std::string cron;        // as given: "30 2 * * 1-5", "@daily"
    std::string zone;        // IANA name; "UTC" by default
    std::string owner;       // the identity that created it, e.g. "slack:U024BE7LH"
    std::string channel;     // where it was created ("irc:#ops", "slack:C0123"); results go there
    std::vector<std::string> command;  // the chat command line as words, after `--`
    bool paused = false;
    bool run_missed = false;  // after downtime, one firing at start for those missed
    std::int64_t created_at_ms = 0;
    std::int64_t last_fired_at_ms = 0;   // 0: never
    std::int64_t last_job_id = 0;        // 0: none
    std::int64_t next_firing_ms = 0;     // 0: paused or never
};

struct NewSchedule {
    std::string name;  // empty: made from the command ("restart-nginx-2")
    std::string cron;
    std::string zone;  // empty: UTC
    std::string owner;
    std::string channel;
    std::vector<std::string> command;
    bool run_missed = false;
};

class ScheduleDesk {
  public:
    virtual ~ScheduleDesk() = default;

    // Errors say what was wrong: the cron expression or zone (CronSchedule::parse's message),
    // a taken or malformed name, an empty command or one the catalog does not know.
    virtual void add_schedule(const NewSchedule& schedule, Callback<Schedule> done) = 0;
    // By name, oldest first.
    virtual std::vector<Schedule> schedules() const = 0;
    virtual std::optional<Schedule> schedule(const std::string& name) const = 0;
    // Errors: no schedule by that name.
    virtual void pause_schedule(const std::string& name, Callback<Schedule> done) = 0;
    virtual void resume_schedule(const std::string& name, Callback<Schedule> done) = 0;
    virtual void remove_schedule(const std::string& name, Callback<Schedule> done) = 0;
    // The next `count` firings (1-50), as Unix milliseconds, from now.
    virtual Result<std::vector<std::int64_t>> next_firings(const std::string& name,
                                                          int count) const = 0;
};

}  // namespace hostline::controller
