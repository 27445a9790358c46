// /api/v1/schedules: the schedule service's desk over HTTP (docs/api.md, "Schedules").
// Listing, showing and adding need schedules.manage; pausing, resuming and removing need it
// too unless the schedule is the caller's own. The service asks the policy again, as the
// schedule's owner, at each firing: adding a schedule grants nothing by itself.
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {

namespace {

constexpr int kNextFirings = 5;

Json schedule_json(const Schedule& s) {
    return Json{{"id", s.id},
                {"name", s.name},
                {"cron", s.cron},
                {"zone", s.zone},
                {"owner", s.owner},
                {"channel", s.channel},
                {"command", s.command},
                {"paused", s.paused},
                {"run_missed", s.run_missed},
                {"created_at_ms", s.created_at_ms},
                {"last_fired_at_ms", s.last_fired_at_ms},
                {"last_job", s.last_job_id},
                {"next_firing_ms", s.next_firing_ms}};
}

// An error from the desk: a missing schedule is 404, a taken name 409, the rest is what the
// caller sent (a cron expression, a zone, a name, a command).
Response desk_error(const Error& error) {
    const std::string& m = error.message;
    if (m.starts_with("no schedule")) return error_response(404, m);
    if (m.find("is taken") != std::string::npos) return error_response(409, m);
    return error_response(400, m);
}

Callback<Schedule> answer_with(const std::shared_ptr<Exchange>& exchange, unsigned status) {
    return [exchange, status](Result<Schedule> s) {
        if (!s) return exchange->respond(desk_error(s.error()));
        exchange->respond(json_response(status, Json{{"schedule", schedule_json(*s)}}));
    };
}

}  // namespace

void Router::get_schedules(const Call& call) {
    if (schedules_ == nullptr)
        return call.exchange->respond(error_response(404, "schedules are not enabled"));
    Json list = Json::array();
    for (const Schedule& s : schedules_->schedules()) list.push_back(schedule_json(s));
    call.exchange->respond(json_response(200, Json{{"schedules", std::move(list)}}));
}

void Router::get_schedule(const Call& call) {
    if (schedules_ == nullptr)
        return call.exchange->respond(error_response(404, "schedules are not enabled"));
    const std::string name(call.name);
    auto s = schedules_->schedule(name);
    if (!s) return call.exchange->respond(error_response(404, "no schedule named '" + name + "'"));
    Json body{{"schedule", schedule_json(*s)}};
    auto next = schedules_->next_firings(name, kNextFirings);
    body["next_ms"] = next ? Json(*next) : Json::array();
    call.exchange->respond(json_response(200, body));
}

// {"cron": "30 2 * * *", "zone": "Europe/Berlin", "name": "nightly-backup",
//  "command": ["backup", "--on", "role=db"], "channel": "irc:#ops", "run_missed": false}
void Router::post_schedules(const Call& call) {
    if (schedules_ == nullptr)
        return call.exchange->respond(error_response(404, "schedules are not enabled"));
    InputJson body = InputJson::parse(call.request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return call.exchange->respond(
            error_response(400,
                           "the body must be a JSON object such as {\"cron\": \"0 3 * * *\", "
                           "\"command\": [\"backup\", \"--on\", \"role=db\"]}"));
    NewSchedule s;
    s.owner = call.identity;
    for (const auto& [key, value] : body.items()) {
        const auto text = [&](std::string& into) -> Result<void> {
            if (!value.is_string()) return fail(key + " must be a string");
            into = value.get<std::string>();
            return {};
        };
        Result<void> read;
        if (key == "cron") {
            read = text(s.cron);
        } else if (key == "zone") {
            read = text(s.zone);
        } else if (key == "name") {
            read = text(s.name);
        } else if (key == "channel") {
            read = text(s.channel);
        } else if (key == "run_missed") {
            if (value.is_boolean())
                s.run_missed = value.get<bool>();
            else
                read = fail("run_missed must be true or false");
        } else if (key == "command") {
            bool words = value.is_array() && !value.empty();
            for (const auto& word : value) words = words && word.is_string();
            if (words)
                s.command = value.get<std::vector<std::string>>();
            else
                read = fail(
                    "command must be a non-empty array of words, as typed after `--` "
                    "in chat: [\"backup\", \"--on\", \"role=db\"]");
        } else {
            read = fail("unknown field '" + key +
                        "'; expected cron, zone, name, command, channel, run_missed");
        }
        if (!read) return call.exchange->respond(error_response(400, read.error().message));
    }
    if (s.cron.empty())
        return call.exchange->respond(error_response(400, "cron is required: \"30 2 * * *\""));
    if (s.command.empty())
        return call.exchange->respond(error_response(400, "command is required"));
    schedules_->add_schedule(s, answer_with(call.exchange, 201));
}

void Router::with_schedule(const Call& call, std::function<void(const Schedule&)> then) {
    const std::string name(call.name);
    std::optional<Schedule> s;
    if (schedules_ != nullptr) s = schedules_->schedule(name);
    // One's own schedule needs nothing more; any other (or none: whether it exists is not
    // told to those who may not manage schedules) needs schedules.manage.
    if ((!s || s->owner != call.identity) &&
        !allowed(call.identity, call.exchange, "schedules.manage", {}, "schedule:" + name))
        return;
    if (schedules_ == nullptr)
        return call.exchange->respond(error_response(404, "schedules are not enabled"));
    if (!s) return call.exchange->respond(error_response(404, "no schedule named '" + name + "'"));
    then(*s);
}

void Router::post_schedule_pause(const Call& call) {
    with_schedule(call, [this, exchange = call.exchange](const Schedule& s) {
        schedules_->pause_schedule(s.name, answer_with(exchange, 200));
    });
}

void Router::post_schedule_resume(const Call& call) {
    with_schedule(call, [this, exchange = call.exchange](const Schedule& s) {
        schedules_->resume_schedule(s.name, answer_with(exchange, 200));
    });
}

void Router::delete_schedule(const Call& call) {
    with_schedule(call, [this, exchange = call.exchange](const Schedule& s) {
        schedules_->remove_schedule(s.name, answer_with(exchange, 200));
    });
}

}  // namespace hostline::controller::http
