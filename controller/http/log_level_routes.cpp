// The controller's log levels per module (common/log): GET /api/v1/log-levels lists them,
// PUT /api/v1/log-levels sets one module's ({"module":"scheduler","level":"debug"}) or every
// module's ({"level":"info"}). logs.manage was decided by the route table. A level set here
// lasts until the next SIGHUP or restart, which apply the config file's [log] again.
#include "common/log/log.hpp"
#include "controller/http/json_views.hpp"
#include "controller/http/routes.hpp"

namespace hostline::controller::http {
namespace {

struct LevelChange {
    std::string module;  // empty: every module
    std::string level;
};

Result<LevelChange> parse_level_change(std::string_view body) {
    InputJson doc = InputJson::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return fail(
            "the body must be a JSON object such as {\"module\": \"scheduler\", \"level\": "
            "\"debug\"}, or {\"level\": \"info\"} for every module");
    LevelChange change;
    bool has_level = false;
    for (const auto& [key, value] : doc.items()) {
        if (key != "module" && key != "level")
            return fail("unknown field '" + key + "'; expected module and level");
        if (!value.is_string()) return fail(key + " must be a string");
        (key == "module" ? change.module : change.level) = value.get<std::string>();
        has_level = has_level || key == "level";
    }
    if (!has_level) return fail(std::string("level is required: ") + std::string(log::kLevels));
    if (doc.contains("module") && change.module.empty())
        return fail("module must not be empty; leave it out to set every module");
    return change;
}

Json levels_json() {
    Json modules = Json::array();
    for (const log::ModuleLevel& each : log::levels(log::Program::controller))
        modules.push_back(Json{{"module", each.module},
                               {"level", each.level},
                               {"about", log::find_module(each.module)->about}});
    return Json{{"modules", std::move(modules)}};
}

}  // namespace

void Router::get_log_levels(const Call& call) {
    call.exchange->respond(json_response(200, levels_json()));
}

void Router::put_log_levels(const Call& call) {
    auto change = parse_level_change(call.request.body);
    if (!change) return call.exchange->respond(error_response(400, change.error().message));
    // Checked whole first, so that a bad level changes no module.
    if (auto valid = log::check_level(change->level); !valid)
        return call.exchange->respond(error_response(400, valid.error().message));
    std::vector<std::string> modules;
    if (change->module.empty()) {
        for (const log::ModuleLevel& each : log::levels(log::Program::controller))
            modules.push_back(each.module);
    } else if (auto known = log::check_module(log::Program::controller, change->module); !known) {
        return call.exchange->respond(error_response(400, known.error().message));
    } else {
        modules.push_back(change->module);
    }
    for (const std::string& module : modules) {
        auto before = log::set_level(log::Program::controller, module, change->level);
        if (!before || *before == change->level) continue;
        (audit_trail_ != nullptr ? *audit_trail_ : no_audit_)
            .record({"log.level_changed",
                     call.identity,
                     "log:" + module,
                     {{"module", module}, {"old", *before}, {"new", change->level}}});
    }
    call.exchange->respond(json_response(200, levels_json()));
}

}  // namespace hostline::controller::http
