// The SQL of the job list (Store::list_jobs), apart from the store so that a test can ask
// SQLite for its query plan: the list must stay as fast with 100,000 jobs as with 100
// (docs/performance.md), which holds only while every filter walks an index in id order and
// stops after one page, or walks only what cannot be many (jobs not yet final).
#pragma once

#include <string>
#include <string_view>

#include "controller/jobs/job_service.hpp"

namespace hostline::controller::detail {

// A time window (since, until) holding fewer jobs than this is listed by walking
// jobs_by_created over the window and sorting what it holds, rather than by id from `before`
// down: that walk stops after a page only if a page of jobs is in the window, and otherwise
// goes on to the oldest job, since SQLite cannot know that ids grow with created_at_ms.
inline constexpr int kShortTimeWindow = 1000;

// SELECT count(*) of the jobs below :before in the query's time window (:since, :until), up
// to kShortTimeWindow: whether the window is short. Only for a query with since or until.
std::string time_window_count_sql(const JobQuery& query);

// SELECT columns (a select list over `j`, the jobs table, with j.id among them) for this
// combination of filters, newest first; short_time_window: what time_window_count_sql
// found. query.states must not repeat a state (each may get its own arm of a UNION ALL, which
// would list its jobs twice). Parameters, by name: :before and :limit always, :state0.. (one
// per state), :agent, :requester, :command, :since, :until for the filters the query sets. A
// parameter may appear more than once; it is bound once.
std::string job_list_sql(const JobQuery& query, std::string_view columns,
                         bool short_time_window = false);

}  // namespace hostline::controller::detail
