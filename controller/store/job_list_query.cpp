#include "controller/store/job_list_query.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace hostline::controller::detail {
namespace {

// The time filters on j.
std::string time_window(const JobQuery& query) {
    std::string where;
    if (query.since_ms > 0) where += " AND j.created_at_ms >= :since";
    if (query.until_ms > 0) where += " AND j.created_at_ms < :until";
    return where;
}

// The filters on j other than the id bound; one state when `state` is not empty.
std::string conditions(const JobQuery& query, const std::string& state) {
    std::string where;
    if (!state.empty()) where += " AND j.state = " + state;
    if (!query.requester.empty()) where += " AND j.requester = :requester";
    // A catalog command by name, an ad-hoc job by argv[0]: the expression of the
    // jobs_by_command_or_argv0 index, written the same way, or SQLite does not use it.
    if (!query.command.empty())
        where += " AND coalesce(nullif(j.command, ''), json_extract(j.argv, '$[0]')) = :command";
    return where + time_window(query);
}

std::string state_list(const JobQuery& query) {
    std::string list;
    for (std::size_t i = 0; i < query.states.size(); ++i)
        list += (i == 0 ? ":state" : ", :state") + std::to_string(i);
    return list;
}

}  // namespace

std::string time_window_count_sql(const JobQuery& query) {
    return fmt::format(
        "SELECT count(*) FROM (SELECT 1 FROM jobs j INDEXED BY jobs_by_created"
        " WHERE j.id < :before{} LIMIT {})",
        time_window(query), kShortTimeWindow);
}

std::string job_list_sql(const JobQuery& query, std::string_view columns, bool short_time_window) {
    // Jobs not final yet (queued, running, waiting for approval) are few whatever the table's
    // size: they are what is in flight. Asked for only those, walk jobs_by_state even where
    // another filter has an index, which could lead through every job of a requester or a
    // host to find none (a UI's live view: ?state=running&host=web-07).
    const bool only_active =
        !query.states.empty() && std::none_of(query.states.begin(), query.states.end(),
                                              [](JobState state) { return is_final(state); });

    const std::string on_agent =
        query.agent.empty()
            ? ""
            : " AND EXISTS (SELECT 1 FROM runs r WHERE r.agent = :agent AND r.job_id = j.id)";

    // A short time window: all of it, sorted (at most kShortTimeWindow jobs). INDEXED BY holds:
    // the window bounds created_at_ms.
    if (short_time_window && !only_active && (query.since_ms > 0 || query.until_ms > 0)) {
        std::string where = conditions(query, "");
        if (!query.states.empty()) where += " AND j.state IN (" + state_list(query) + ")";
        return fmt::format(
            "SELECT {} FROM jobs j INDEXED BY jobs_by_created WHERE j.id < :before{}{}"
            " ORDER BY j.id DESC LIMIT :limit",
            columns, where, on_agent);
    }

    // By agent: walk runs_by_agent backwards (a job may have several runs on one agent:
    // GROUP BY); the job's own filters are checked on each.
    if (!query.agent.empty() && !only_active) {
        std::string where = conditions(query, "");
        if (!query.states.empty()) where += " AND j.state IN (" + state_list(query) + ")";
        return fmt::format(
            "SELECT {} FROM runs r JOIN jobs j ON j.id = r.job_id"
            " WHERE r.agent = :agent AND r.job_id < :before{}"
            " GROUP BY r.job_id ORDER BY r.job_id DESC LIMIT :limit",
            columns, where);
    }
    // INDEXED BY holds only because every arm below has `j.state = ?` when only_active.
    const std::string from = only_active ? "jobs j INDEXED BY jobs_by_state" : "jobs j";
    // Several states: `state IN (...)` sorts its matches in a temporary b-tree. One arm per
    // state, each walking jobs_by_state (state, id) in id order, lets SQLite merge them and
    // stop after a page. A job has one state, so no job comes up in two arms.
    if (query.states.size() > 1) {
        std::string sql;
        for (std::size_t i = 0; i < query.states.size(); ++i) {
            sql += fmt::format("{}SELECT {} FROM {} WHERE j.id < :before{}{}",
                               i == 0 ? "" : " UNION ALL ", columns, from,
                               conditions(query, ":state" + std::to_string(i)), on_agent);
        }
        return sql + " ORDER BY id DESC LIMIT :limit";
    }
    const std::string state = query.states.empty() ? "" : ":state0";
    return fmt::format("SELECT {} FROM {} WHERE j.id < :before{}{} ORDER BY j.id DESC LIMIT :limit",
                       columns, from, conditions(query, state), on_agent);
}

}  // namespace hostline::controller::detail
