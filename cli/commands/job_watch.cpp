#include "cli/commands/job_watch.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "cli/output/fields.hpp"
#include "cli/output/format.hpp"
#include "cli/sigint_pipe.hpp"

namespace hostline::cli {

namespace {

constexpr std::chrono::milliseconds kPollInterval{500};
// How long polling keeps trying while the controller cannot be asked (e.g. it restarts).
constexpr std::chrono::seconds kPollPatience{30};

}  // namespace

JobWatch::JobWatch(ApiClient& api, std::int64_t job_id, Handlers handlers)
    : api_(api),
      job_id_(job_id),
      path_("/api/v1/jobs/" + std::to_string(job_id)),
      handlers_(std::move(handlers)) {}

Result<JobWatch::End> JobWatch::follow(int interrupt_fd) {
    std::string why;
    switch (read_events(interrupt_fd, why)) {
        case StreamResult::job_ended:
            return End::job_ended;
        case StreamResult::interrupted:
            return End::interrupted;
        case StreamResult::job_ended_before:
            // The job had ended before we asked; the documents hold everything.
            break;
        case StreamResult::refused:
            return fail(why);
        case StreamResult::broke:
            notice("the event stream ended before the job did (" + why + "); checking job #" +
                   std::to_string(job_id_) + " every 500ms");
            break;
    }
    return poll_until_end(interrupt_fd);
}

std::string JobWatch::run_output(std::int64_t run_id) const {
    std::string text;
    auto it = output_.find(run_id);
    if (it == output_.end()) return text;
    for (const auto& [seq, chunk] : it->second) text += chunk.data;
    return text;
}

JobWatch::StreamResult JobWatch::read_events(int interrupt_fd, std::string& why) {
    StreamResult result = StreamResult::broke;
    std::size_t index = 0;
    auto end = api_.stream_lines(
        path_ + "/events",
        [&](std::string_view line) {
            auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
            if (!event.is_object()) {
                why = "the controller sent an event that is not a JSON object";
                return false;
            }
            return on_event(event, index++, result, why);
        },
        interrupt_fd);
    if (!end) {
        why = end.error().message;
        // A 4xx is the controller saying no; asking again will not help.
        return api_.last_status() / 100 == 4 ? StreamResult::refused : StreamResult::broke;
    }
    if (*end == ApiClient::StreamEnd::interrupted) return StreamResult::interrupted;
    if (result == StreamResult::broke && why.empty())
        why = "the controller closed it without saying the job ended";
    return result;
}

// Returns whether to keep reading.
bool JobWatch::on_event(const nlohmann::json& event, std::size_t index, StreamResult& result,
                        std::string& why) {
    const std::string type = text_field(event, "type");
    if (type == "job") {
        job_ = object_field(event, "job");
        if (handlers_.on_job) handlers_.on_job(job_);
        if (!is_final_job_state(text_field(job_, "state"))) return true;
        // The snapshot puts the job line after the runs and output. A final job line before
        // anything else (a job without runs, or a controller that puts the job first) is no
        // proof that the rest was sent: take runs and output from the documents instead.
        result = index == 0 ? StreamResult::job_ended_before : StreamResult::job_ended;
        return false;
    }
    if (type == "run") {
        set_run(object_field(event, "run"));
    } else if (type == "output") {
        add_output(event);
    } else if (type == "error") {
        // Always the last line (e.g. the CLI read too slowly): the stream is over.
        why = "the controller said: " + text_field(object_field(event, "error"), "message");
        return false;
    }
    // Other types are newer than this CLI: skip them.
    return true;
}

Result<JobWatch::End> JobWatch::poll_until_end(int interrupt_fd) {
    // Run changes are reported only once the output is in, so that a run's last lines are
    // never printed after its end.
    std::map<std::int64_t, nlohmann::json> changed;
    auto failing_since = std::chrono::steady_clock::time_point();
    bool told = false;
    for (;;) {
        auto answer = api_.get(path_);
        if (answer) {
            failing_since = {};
            job_ = object_field(*answer, "job");
            for (const auto& run : array_field(*answer, "runs")) {
                auto id = int_field(run, "id");
                if (!id) continue;
                auto it = runs_.find(*id);
                if (it == runs_.end() || it->second != run) changed[*id] = run;
                runs_[*id] = run;
            }
            if (is_final_job_state(text_field(job_, "state"))) break;
        } else {
            if (api_.last_status() / 100 == 4) return answer.error();  // refused: final
            const auto now = std::chrono::steady_clock::now();
            if (failing_since == std::chrono::steady_clock::time_point()) failing_since = now;
            if (now - failing_since >= kPollPatience) return answer.error();
            if (!told) notice(answer.error().message + "; trying again");
            told = true;
        }
        if (wait_readable(interrupt_fd, kPollInterval)) return End::interrupted;
    }
    if (handlers_.on_job) handlers_.on_job(job_);
    if (auto fetched = fetch_output(); !fetched) return fetched.error();
    if (handlers_.on_run)
        for (const auto& [id, run] : changed) handlers_.on_run(run);
    return End::job_ended;
}

Result<void> JobWatch::fetch_output() {
    auto answer = api_.get(path_ + "/output");
    if (!answer) return answer.error();
    std::vector<const nlohmann::json*> items;
    for (const auto& item : array_field(*answer, "output")) items.push_back(&item);
    // Each run's chunks in the order the agent sent them, runs one after another.
    std::stable_sort(items.begin(), items.end(), [](const auto* a, const auto* b) {
        auto key = [](const nlohmann::json& item) {
            return std::pair(int_field(item, "run_id").value_or(0),
                             int_field(item, "seq").value_or(0));
        };
        return key(*a) < key(*b);
    });
    for (const auto* item : items) add_output(*item);
    return {};
}

void JobWatch::set_run(const nlohmann::json& run) {
    auto id = int_field(run, "id");
    if (!id) return;
    runs_[*id] = run;
    if (handlers_.on_run) handlers_.on_run(run);
}

void JobWatch::add_output(const nlohmann::json& item) {
    OutputChunk chunk;
    auto run_id = int_field(item, "run_id");
    auto seq = int_field(item, "seq");
    if (!run_id || !seq) return;
    chunk.run_id = *run_id;
    chunk.seq = *seq;
    chunk.agent = text_field(item, "agent");
    chunk.stream = text_field(item, "stream");
    chunk.data = text_field(item, "data");
    auto [it, added] = output_[chunk.run_id].emplace(chunk.seq, std::move(chunk));
    if (added && handlers_.on_output) handlers_.on_output(it->second);
}

void JobWatch::notice(const std::string& text) {
    if (handlers_.on_notice) handlers_.on_notice(text);
}

}  // namespace hostline::cli
