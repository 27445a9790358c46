// `!schedule ...` and `!schedules`, and a schedule's firing as its owner's chat message
// (docs/scheduling.md, Schedules). Part of ChatService: the firing reuses its binding, policy
// and reporting as they are.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "chat/grammar/parser.hpp"
#include "controller/chat/chat_service.hpp"
#include "controller/schedules/cron.hpp"

namespace hostline::controller {
namespace {

constexpr const char* kManage = "schedules.manage";
constexpr int kShownFirings = 5;

// Words as a chat command line that the grammar reads back into the same words.
std::string command_line(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) {
        // Anything beyond printable ASCII is quoted: the grammar also reads curly quotes.
        bool plain = !w.empty();
        for (unsigned char ch : w)
            if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\'' || ch == '\\') plain = false;
        std::string shown = w;
        if (!plain) {
            shown = "\"";
            for (char c : w) {
                if (c == '"' || c == '\\') shown += '\\';
                shown += c;
            }
            shown += "\"";
        }
        out += (out.empty() ? "" : " ") + shown;
    }
    return out;
}

std::optional<CronSchedule> cron_of(const Schedule& s) {
    auto cron = CronSchedule::parse(s.cron, s.zone);
    if (!cron) return std::nullopt;
    return std::move(*cron);
}

std::string local_text(const Schedule& s, std::int64_t ms) {
    auto cron = cron_of(s);
    auto at = std::chrono::floor<std::chrono::seconds>(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
    return cron ? cron->local_text(at) : std::to_string(ms / 1000) + " (Unix)";
}

std::string next_text(const Schedule& s) {
    if (s.paused) return "paused";
    if (s.next_firing_ms == 0) return "never fires";
    return "next " + local_text(s, s.next_firing_ms);
}

std::string summary_line(const Schedule& s) {
    return s.name + "  \"" + s.cron + "\" " + s.zone + "  " + next_text(s) + "  by " + s.owner +
           " in " + s.channel + "  -- " + command_line(s.command);
}

}  // namespace

Result<std::int64_t> ChatService::run_scheduled(const Schedule& schedule) {
    // Without a channel (one made through the API may have none) the replies go nowhere: the
    // local platform drops posts to no conversation, and the policy is asked for no channel.
    std::string channel;
    chat::Adapter* a = adapter_of(schedule.channel.empty() ? "local:" : schedule.channel, channel);
    if (a == nullptr || (channel.empty() && !schedule.channel.empty()) ||
        schedule.channel.starts_with("schedule:"))
        return fail("no chat adapter serves " + schedule.channel);
    chat::IncomingMessage m;
    m.sender = {schedule.owner, schedule.owner.substr(schedule.owner.find(':') + 1)};
    m.channel = channel;
    m.text = command_line(schedule.command);
    m.direct_message = true;  // no prefix needed: it is for the bot
    Firing firing{schedule, std::nullopt, {}};
    firing_ = &firing;
    on_message(*a, m);
    firing_ = nullptr;
    if (firing.job_id) return *firing.job_id;
    return fail(firing.refusal.empty() ? "nothing was submitted" : firing.refusal);
}

void ChatService::builtin_schedule(chat::Adapter& a, const chat::IncomingMessage& m,
                                   const chat::ParsedCommand& c, DoneToken done) {
    const std::string& p = config_.prefix;
    const std::string usage = "usage: " + p +
                              "schedule add \"CRON\" [--tz ZONE] [--name NAME] [--run-missed] -- "
                              "COMMAND [ARGS...]\n       " +
                              p +
                              "schedule list | show NAME | next NAME | pause NAME | "
                              "resume NAME | remove NAME";
    if (schedules_ == nullptr) return reply(a, m, "error: schedules are not enabled here");
    std::string verb = c.name == "schedules" ? "list" : "";
    if (c.name == "schedule") {
        if (c.tokens.empty() || c.tokens[0].kind != chat::Token::Kind::word ||
            c.tokens[0].after_double_dash)
            return reply(a, m, usage);
        verb = c.tokens[0].text;
    }
    if (verb == "add") return schedule_add(a, m, c, done);

    if (verb == "list") {
        if (c.tokens.size() > (c.name == "schedules" ? 0u : 1u)) return reply(a, m, usage);
        std::vector<Schedule> all = schedules_->schedules();
        if (all.empty()) return reply(a, m, "no schedules yet: " + p + "help schedule");
        std::string text = std::to_string(all.size()) + " schedule(s):";
        for (const Schedule& s : all) text += "\n" + summary_line(s);
        return reply(a, m, text);
    }

    if (c.tokens.size() != 2 || c.tokens[1].kind != chat::Token::Kind::word)
        return reply(a, m, usage);
    const std::string name = c.tokens[1].text;
    std::optional<Schedule> found = schedules_->schedule(name);
    if (!found) return reply(a, m, "error: no schedule named '" + name + "'");

    if (verb == "show") {
        const Schedule& s = *found;
        std::string text =
            "schedule " + s.name + ": \"" + s.cron + "\" in " + s.zone + ", " + next_text(s) +
            "\nruns: " + command_line(s.command) + "\nas " + s.owner + ", reported in " +
            s.channel + "\nmissed firings after a controller restart: " +
            (s.run_missed ? "run once at start" : "skipped") + "\nlast fired: " +
            (s.last_fired_at_ms == 0 ? std::string("never") : local_text(s, s.last_fired_at_ms)) +
            (s.last_job_id == 0 ? "" : " (job #" + std::to_string(s.last_job_id) + ")");
        return reply(a, m, text);
    }
    if (verb == "next") {
        auto firings = schedules_->next_firings(name, kShownFirings);
        if (!firings) return reply(a, m, "error: " + firings.error().message);
        std::string text = "the next " + std::to_string(firings->size()) + " firings of " + name +
                           " (" + found->zone + ")" + (found->paused ? ", once resumed:" : ":");
        for (std::int64_t at : *firings) text += "\n  " + local_text(*found, at);
        return reply(a, m, text);
    }
    if (verb != "pause" && verb != "resume" && verb != "remove") return reply(a, m, usage);

    // The owner may change their own; anyone else needs schedules.manage.
    if (found->owner != m.sender.id) {
        Decision d = decide(a, m, kManage, {}, "schedule:" + name);
        if (!d.allowed)
            return reply(
                a, m, "denied: " + d.reason + " (schedule " + name + " is " + found->owner + "'s)");
    }
    auto answered = [this, &a, m, verb, done](Result<Schedule> s) {
        if (!s) return reply(a, m, "error: " + s.error().message);
        if (verb == "remove") return reply(a, m, "schedule " + s->name + " removed");
        reply(a, m,
              "schedule " + s->name + " " + (verb == "pause" ? "paused" : "resumed") +
                  (s->paused ? "" : "; " + next_text(*s)));
    };
    if (verb == "pause") return schedules_->pause_schedule(name, answered);
    if (verb == "resume") return schedules_->resume_schedule(name, answered);
    schedules_->remove_schedule(name, answered);
}

void ChatService::schedule_add(chat::Adapter& a, const chat::IncomingMessage& m,
                               const chat::ParsedCommand& c, DoneToken done) {
    const std::string usage = "usage: " + config_.prefix +
                              "schedule add \"CRON\" [--tz ZONE] [--name NAME] [--run-missed] -- "
                              "COMMAND [ARGS...]";
    if (c.target || c.timeout || c.batch || c.dry_run)
        return reply(a, m,
                     "error: --on, --timeout, --batch and --dry-run belong to the command: put "
                     "them after --\n" +
                         usage);
    NewSchedule s;
    s.owner = m.sender.id;
    s.channel = a.platform() + ":" + m.channel;
    std::vector<std::string> cron_words;
    for (std::size_t i = 1; i < c.tokens.size(); ++i) {
        const chat::Token& t = c.tokens[i];
        if (t.after_double_dash) {
            s.command.push_back(t.text);
            continue;
        }
        if (t.kind == chat::Token::Kind::word) {
            cron_words.push_back(t.text);  // quoted as one word, or its fields as words
            continue;
        }
        if (t.text == "run-missed") {
            if (t.inline_value) return reply(a, m, "error: --run-missed takes no value");
            s.run_missed = true;
            continue;
        }
        if (t.text != "tz" && t.text != "name")
            return reply(a, m, "error: unknown option --" + t.text + "\n" + usage);
        std::optional<std::string> value = t.inline_value;
        if (!value && i + 1 < c.tokens.size() && c.tokens[i + 1].kind == chat::Token::Kind::word &&
            !c.tokens[i + 1].after_double_dash)
            value = c.tokens[++i].text;
        if (!value) return reply(a, m, "error: --" + t.text + " needs a value\n" + usage);
        (t.text == "tz" ? s.zone : s.name) = *value;
    }
    for (const std::string& w : cron_words) s.cron += (s.cron.empty() ? "" : " ") + w;
    if (s.cron.empty()) return reply(a, m, "error: say when, e.g. \"30 2 * * 1-5\"\n" + usage);
    if (s.command.empty()) return reply(a, m, "error: put the command after --\n" + usage);
    // Words after the command's own `--` are arguments, not options.
    const auto options_end = std::find(s.command.begin(), s.command.end(), "--");
    if (std::find(s.command.begin(), options_end, "--dry-run") != options_end)
        return reply(a, m, "error: a schedule cannot --dry-run: its firings run");
    Decision d = decide(a, m, kManage, {}, "schedule:" + (s.name.empty() ? "(new)" : s.name));
    if (!d.allowed) return reply(a, m, "denied: " + d.reason);
    const bool ends = a.platform() == "local";
    schedules_->add_schedule(s, [this, &a, m, ends, done](Result<Schedule> added) {
        if (!added) return reply(a, m, "error: " + added.error().message);
        reply(a, m,
              "schedule " + added->name + " added: \"" + added->cron + "\" in " + added->zone +
                  ", " + next_text(*added) + "; runs " + command_line(added->command) + " as " +
                  added->owner + ", reported here" +
                  (ends ? " (while this terminal conversation lasts)" : "") + ". " +
                  config_.prefix + "schedule next " + added->name + " shows more.");
    });
}

}  // namespace hostline::controller
