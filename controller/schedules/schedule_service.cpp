#include "controller/schedules/schedule_service.hpp"

#include <algorithm>
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"schedules"};

namespace hostline::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// The longest the timer sleeps: a wall clock set forward or back is noticed within it.
constexpr auto kLongestWait = std::chrono::seconds(60);
// Missed firings counted at start beyond this many are reported as "at least".
constexpr int kMaxMissedCounted = 100000;

CronSchedule::TimePoint seconds_of(std::int64_t ms) {
    return std::chrono::floor<std::chrono::seconds>(system_clock::time_point(milliseconds(ms)));
}

std::int64_t ms_of(CronSchedule::TimePoint t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 63) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
        if (!ok) return false;
    }
    return true;
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

}  // namespace

ScheduleService::ScheduleService(boost::asio::io_context& io, Store& store, const Catalog& catalog,
                                 AuditTrail& audit, Fire fire,
                                 std::chrono::milliseconds catch_up_delay, WallClock clock)
    : store_(store),
      catalog_(catalog),
      audit_(audit),
      fire_(std::move(fire)),
      catch_up_delay_(catch_up_delay),
      clock_(std::move(clock)),
      timer_(io) {}

ScheduleService::~ScheduleService() {
    stop();
}

void ScheduleService::stop() {
    stopped_ = true;
    timer_.cancel();
}

std::int64_t ScheduleService::now_ms() const {
    return std::chrono::duration_cast<milliseconds>(clock_().time_since_epoch()).count();
}

std::int64_t ScheduleService::next_after(const Entry& entry, std::int64_t after_ms) const {
    if (!entry.cron) return 0;
    auto next = entry.cron->next_after(seconds_of(after_ms));
    return next ? ms_of(*next) : 0;
}

void ScheduleService::restore(std::vector<Schedule> stored, std::int64_t max_schedule_id) {
    const std::int64_t now = now_ms();
    last_id_ = max_schedule_id;
    for (Schedule& s : stored) {
        last_id_ = std::max(last_id_, s.id);
        Entry entry{std::move(s), std::nullopt};
        Schedule& sc = entry.schedule;
        auto cron = CronSchedule::parse(sc.cron, sc.zone);
        if (!cron) {
            // Kept (it can be shown and removed), but it cannot fire.
            logger->error("schedule {}: '{}' in {} no longer parses: {}; it will not fire", sc.name,
                          sc.cron, sc.zone, cron.error().message);
            sc.next_firing_ms = 0;
            entries_.emplace(sc.id, std::move(entry));
            continue;
        }
        entry.cron = std::move(*cron);
        sc.next_firing_ms = 0;
        if (!sc.paused) {
            // Firings after the last one (or, never fired, after its creation) up to now were
            // missed while the controller was down.
            std::int64_t from = sc.last_fired_at_ms != 0 ? sc.last_fired_at_ms : sc.created_at_ms;
            int missed = 0;
            for (std::int64_t t = next_after(entry, from); t != 0 && t <= now;
                 t = next_after(entry, t)) {
                if (++missed == kMaxMissedCounted) break;
            }
            sc.next_firing_ms = next_after(entry, now);
            if (missed > 0) {
                const char* action = sc.run_missed ? "run once at start" : "skipped";
                logger->info("schedule {}: {} firing(s) missed while the controller was down: {}",
                             sc.name, missed, action);
                audit_.record({"schedule.missed",
                               sc.owner,
                               "schedule:" + sc.name,
                               {{"count", std::to_string(missed)},
                                {"action", action},
                                {"since_ms", std::to_string(from)}}});
                if (sc.run_missed) sc.next_firing_ms = now + catch_up_delay_.count();
            }
        }
        entries_.emplace(sc.id, std::move(entry));
    }
    arm();
}

ScheduleService::Entry* ScheduleService::find(const std::string& name) {
    for (auto& [id, entry] : entries_)
        if (entry.schedule.name == name) return &entry;
    return nullptr;
}

const ScheduleService::Entry* ScheduleService::find(const std::string& name) const {
    return const_cast<ScheduleService*>(this)->find(name);
}

std::string ScheduleService::name_for(const std::vector<std::string>& command) const {
    // The command's name, or for `run` the program after `--`: "restart-nginx", "uptime".
    std::string base;
    std::size_t first = 0;
    if (!command.empty() && command[0] == "run") {
        auto dash = std::find(command.begin(), command.end(), "--");
        first = dash == command.end() ? command.size() : dash - command.begin() + 1;
        if (first < command.size()) {
            const std::string& program = command[first];
            base = program.substr(program.rfind('/') == std::string::npos ? 0
                                                                          : program.rfind('/') + 1);
        }
    } else if (!command.empty()) {
        base = command[0];
    }
    std::string name;
    for (char c : base) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (ok) {
            name += c;
        } else if (!name.empty() && name.back() != '-') {
            name += '-';
        }
    }
    while (!name.empty() && name.back() == '-') name.pop_back();
    if (name.size() > 50) name.resize(50);
    if (name.empty()) name = "schedule";
    if (find(name) == nullptr) return name;
    for (int n = 2;; ++n) {
        std::string numbered = name + "-" + std::to_string(n);
        if (find(numbered) == nullptr) return numbered;
    }
}

void ScheduleService::add_schedule(const NewSchedule& request, Callback<Schedule> done) {
    if (request.command.empty()) return done(fail("no command: put it after --"));
    const std::string& word = request.command[0];
    if (word != "run" && catalog_.find(word) == nullptr)
        return done(fail("unknown command '" + word +
                         "': a schedule runs `run` or a catalog "
                         "command"));
    std::string name = request.name.empty() ? name_for(request.command) : request.name;
    if (!valid_name(name))
        return done(fail("'" + name +
                         "' is not a schedule name: 1-63 of a-z, 0-9 and '-', "
                         "not starting with '-'"));
    if (find(name) != nullptr) return done(fail("the schedule name '" + name + "' is taken"));
    auto cron = CronSchedule::parse(request.cron, request.zone);
    if (!cron) return done(cron.error());

    Entry entry{{}, std::move(*cron)};
    Schedule& s = entry.schedule;
    s.id = ++last_id_;
    s.name = name;
    s.cron = request.cron;
    s.zone = request.zone.empty() ? "UTC" : request.zone;
    s.owner = request.owner;
    s.channel = request.channel;
    s.command = request.command;
    s.run_missed = request.run_missed;
    s.created_at_ms = now_ms();
    s.next_firing_ms = next_after(entry, s.created_at_ms);
    if (s.next_firing_ms == 0) {
        --last_id_;
        return done(fail("'" + request.cron + "' never fires"));
    }
    audit_.record({"schedule.added",
                   s.owner,
                   "schedule:" + s.name,
                   {{"cron", s.cron},
                    {"zone", s.zone},
                    {"channel", s.channel},
                    {"command", joined(s.command)},
                    {"run_missed", s.run_missed ? "true" : "false"}}});
    Schedule saved = s;
    entries_.emplace(s.id, std::move(entry));
    arm();
    save(saved, std::move(done));
}

std::vector<Schedule> ScheduleService::schedules() const {
    std::vector<Schedule> out;
    for (const auto& [id, entry] : entries_) out.push_back(entry.schedule);
    return out;
}

std::optional<Schedule> ScheduleService::schedule(const std::string& name) const {
    const Entry* entry = find(name);
    if (entry == nullptr) return std::nullopt;
    return entry->schedule;
}

void ScheduleService::pause_schedule(const std::string& name, Callback<Schedule> done) {
    Entry* entry = find(name);
    if (entry == nullptr) return done(fail("no schedule named '" + name + "'"));
    entry->schedule.paused = true;
    entry->schedule.next_firing_ms = 0;
    audit_.record({"schedule.paused", entry->schedule.owner, "schedule:" + name, {}});
    arm();
    save(entry->schedule, std::move(done));
}

void ScheduleService::resume_schedule(const std::string& name, Callback<Schedule> done) {
    Entry* entry = find(name);
    if (entry == nullptr) return done(fail("no schedule named '" + name + "'"));
    // Firings that fell while it was paused are not made up for.
    entry->schedule.paused = false;
    entry->schedule.next_firing_ms = next_after(*entry, now_ms());
    audit_.record({"schedule.resumed", entry->schedule.owner, "schedule:" + name, {}});
    arm();
    save(entry->schedule, std::move(done));
}

void ScheduleService::remove_schedule(const std::string& name, Callback<Schedule> done) {
    Entry* entry = find(name);
    if (entry == nullptr) return done(fail("no schedule named '" + name + "'"));
    Schedule removed = entry->schedule;
    removed.next_firing_ms = 0;
    entries_.erase(removed.id);
    audit_.record({"schedule.removed", removed.owner, "schedule:" + name, {}});
    arm();
    store_.delete_schedule(removed.id, [removed, done = std::move(done)] { done(removed); });
}

Result<std::vector<std::int64_t>> ScheduleService::next_firings(const std::string& name,
                                                                int count) const {
    const Entry* entry = find(name);
    if (entry == nullptr) return fail("no schedule named '" + name + "'");
    if (count < 1 || count > 50) return fail("count must be 1-50");
    if (!entry->cron) return fail("'" + entry->schedule.cron + "' no longer parses");
    auto firings = entry->cron->next_firings(seconds_of(now_ms()), count);
    if (!firings) return firings.error();
    std::vector<std::int64_t> out;
    for (auto t : *firings) out.push_back(ms_of(t));
    return out;
}

void ScheduleService::save(const Schedule& schedule, Callback<Schedule> done) {
    store_.save_schedule(schedule, [schedule, done = std::move(done)] { done(schedule); });
}

void ScheduleService::fire(Entry& entry, std::int64_t now) {
    Schedule& s = entry.schedule;
    const std::int64_t due = s.next_firing_ms;
    s.last_fired_at_ms = due;
    Result<std::int64_t> job = fire_(s);
    if (job) {
        s.last_job_id = *job;
        logger->info("schedule {}: fired job #{}", s.name, *job);
        audit_.record({"schedule.fired",
                       s.owner,
                       "schedule:" + s.name,
                       {{"job", std::to_string(*job)}, {"due_ms", std::to_string(due)}}});
    } else {
        logger->warn("schedule {}: firing refused: {}", s.name, job.error().message);
        audit_.record({"schedule.refused",
                       s.owner,
                       "schedule:" + s.name,
                       {{"reason", job.error().message}, {"due_ms", std::to_string(due)}}});
    }
    // After the later of the two: a firing run late (a busy loop, a restart) is not repeated.
    s.next_firing_ms = next_after(entry, std::max(now, due));
    store_.save_schedule(s);
}

void ScheduleService::arm() {
    if (stopped_) return;
    std::int64_t soonest = 0;
    for (const auto& [id, entry] : entries_) {
        const std::int64_t next = entry.schedule.next_firing_ms;
        if (!entry.schedule.paused && next != 0 && (soonest == 0 || next < soonest)) soonest = next;
    }
    timer_.cancel();
    if (soonest == 0) return;
    auto wait = std::clamp<std::chrono::milliseconds>(milliseconds(soonest - now_ms()),
                                                      milliseconds(0), kLongestWait);
    timer_.expires_after(wait);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;  // cancelled: re-armed, stopped or destroyed
        on_timer();
    });
}

void ScheduleService::on_timer() {
    const std::int64_t now = now_ms();
    std::vector<std::int64_t> due;
    for (const auto& [id, entry] : entries_) {
        const Schedule& s = entry.schedule;
        if (!s.paused && s.next_firing_ms != 0 && s.next_firing_ms <= now) due.push_back(id);
    }
    for (std::int64_t id : due) {
        auto it = entries_.find(id);
        if (it != entries_.end()) fire(it->second, now);
    }
    arm();
}

}  // namespace hostline::controller
