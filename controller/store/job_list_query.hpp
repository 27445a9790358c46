// The SQL of the job list (Store::list_jobs), apart from the store so that a test can ask
// SQLite for its query plan: the list must stay as fast with 100,000 jobs as with 100
// (docs/performance.md), which holds only while every filter walks an index in id order and
// stops after one page, or walks only what cannot be many (jobs not yet final).
#pragma once

#include <string>
#include <string_view>

#include "controller/jobs/job_service.hpp"

namespace hostline::controller::detail {

// SELECT columns (a select list over `j`, the jobs table, with j.id among them) for this
// combination of filters, newest first. query.states must not repeat a state (each gets its
// own arm of a UNION ALL, which would list its jobs twice). Parameters, by name: :before and :limit
// always, :state0.. (one per state), :agent, :requester, :command, :since, :until for the filters
// the query sets. A parameter may appear more than once; it is bound once.
std::string job_list_sql(const JobQuery& query, std::string_view columns);

}  // namespace hostline::controller::detail
