// `hostline audit`: the audit chain, newest first; `audit verify` checks it; `audit export`
// writes it as JSON lines (docs/audit.md).
#include <time.h>

#include <chrono>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/output/table.hpp"
#include "common/duration.hpp"

namespace hostline::cli {

namespace {

constexpr int kExportPage = 500;

struct AuditOptions {
    std::string kind;
    std::string since;
    std::string before;
    int limit = 0;
    bool json = false;
};

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// --since: a duration back from now ("2h", "7d") or a UTC time ("2026-11-24",
// "2026-11-24T10:00:00Z"), as milliseconds since 1970.
Result<std::int64_t> parse_since(const std::string& text) {
    if (auto ago = parse_duration(text)) return now_ms() - ago->count();
    std::tm tm{};
    for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
        tm = std::tm{};
        const char* end = strptime(text.c_str(), format, &tm);
        if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(timegm(&tm)) * 1000;
    }
    return fail("--since '" + text +
                "' is neither a duration (such as 2h or 7d) nor a UTC time (such as 2026-11-24 "
                "or 2026-11-24T10:00:00Z)");
}

std::string detail_text(const nlohmann::json& detail) {
    if (!detail.is_object()) return detail.is_string() ? detail.get<std::string>() : "";
    std::string out;
    for (const auto& [key, value] : detail.items()) {
        if (!out.empty()) out += ' ';
        out += key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
    return out;
}

Result<int> list_audit(ApiClient& api, const AuditOptions& options, Console& console) {
    std::string since;
    if (!options.since.empty()) {
        auto ms = parse_since(options.since);
        if (!ms) return ms.error();
        since = std::to_string(*ms);
    }
    auto answer = api.get(
        with_query("/api/v1/audit",
                   {{"kind", options.kind},
                    {"since", since},
                    {"before", options.before},
                    {"limit", options.limit > 0 ? std::to_string(options.limit) : std::string()}}));
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& events = array_field(*answer, "events");
    if (events.empty()) {
        console.err << "no audit events\n";
        return 0;
    }
    Table table({"ID", "TIME", "KIND", "ACTOR", "SUBJECT", "DETAIL"});
    for (const auto& event : events) {
        table.add_row({std::to_string(int_field(event, "id").value_or(0)),
                       format_local_time(int_field(event, "at_ms")), text_field(event, "kind"),
                       text_field(event, "actor"), text_field(event, "subject"),
                       detail_text(event.contains("detail") ? event["detail"] : nlohmann::json())});
    }
    table.set_shrinkable(5, 20);
    console.out << table.render(console.width);
    if (auto next = int_field(*answer, "next_before"))
        console.err << "older events: hostline audit --before " << *next << '\n';
    return 0;
}

Result<int> verify_audit(ApiClient& api, bool json, Console& console) {
    auto answer = api.get("/api/v1/audit/verify");
    if (!answer) return answer.error();
    const bool ok = bool_field(*answer, "ok");
    const auto rows = int_field(*answer, "rows").value_or(0);
    if (json) {
        print_json(console.out, *answer);
    } else if (ok) {
        console.out << "the audit chain is intact: " << rows << " row(s) verified\n";
    } else {
        console.out << "the audit chain is broken: " << text_field(*answer, "problem") << '\n';
    }
    return ok ? 0 : 1;
}

// Pages forwards from the oldest matching row, one JSON document per line, exactly as the
// API gives each row (hash and prev_hash included), so the output can be checked again.
Result<int> export_audit(ApiClient& api, const AuditOptions& options, Console& console) {
    std::string since;
    if (!options.since.empty()) {
        auto ms = parse_since(options.since);
        if (!ms) return ms.error();
        since = std::to_string(*ms);
    }
    std::int64_t after = 0;
    for (;;) {
        auto answer =
            api.get(with_query("/api/v1/audit", {{"order", "oldest"},
                                                 {"after", std::to_string(after)},
                                                 {"since", since},
                                                 {"kind", options.kind},
                                                 {"limit", std::to_string(kExportPage)}}));
        if (!answer) return answer.error();
        for (const auto& event : array_field(*answer, "events"))
            console.out << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                        << '\n';
        const auto next = int_field(*answer, "next_after");
        if (!next) break;
        after = *next;
    }
    console.out.flush();
    return 0;
}

}  // namespace

void add_audit_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<AuditOptions>();
    auto* audit = app.add_subcommand("audit", "List the audit log, newest first");
    audit->require_subcommand(0, 1);
    audit->add_option("--kind", options->kind, "Only events of this kind (e.g. job.created)")
        ->type_name("KIND");
    audit->add_option("--since", options->since, "Only events since TIME or DURATION ago")
        ->type_name("TIME|DURATION");
    audit->add_option("--before", options->before, "Only events older than this id (to page)")
        ->check(CLI::PositiveNumber)
        ->type_name("ID");
    audit->add_option("--limit", options->limit, "At most this many events")
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    audit->add_flag("--json", options->json, "Print the API document");

    auto verify_json = std::make_shared<bool>(false);
    auto* verify = audit->add_subcommand(
        "verify", "Check the audit hash chain; exit 1 and name the first broken row if it is");
    verify->add_flag("--json", *verify_json, "Print the API document");
    verify->callback([verify_json, &context] {
        run_api_command(context, [&](ApiClient& api) {
            return verify_audit(api, *verify_json, context.console);
        });
    });

    auto export_options = std::make_shared<AuditOptions>();
    auto* exporter = audit->add_subcommand(
        "export", "Write the audit log as JSON lines, oldest first, hashes included");
    exporter->add_option("--since", export_options->since, "Only events since TIME or DURATION ago")
        ->type_name("TIME|DURATION");
    exporter->add_option("--kind", export_options->kind, "Only events of this kind")
        ->type_name("KIND");
    exporter->callback([export_options, &context] {
        run_api_command(context, [&](ApiClient& api) {
            return export_audit(api, *export_options, context.console);
        });
    });

    audit->callback([audit, options, &context] {
        if (!audit->get_subcommands().empty()) return;  // verify or export ran
        run_api_command(context,
                        [&](ApiClient& api) { return list_audit(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
