#include "controller/chat/run_notes.hpp"

namespace hostline::controller {

std::string queue_note(const std::map<std::int64_t, RunRecord>& runs) {
    constexpr std::size_t kNamed = 3;  // a progress line, not a list of the whole queue
    std::vector<std::string> parts;
    std::size_t waiting = 0;
    for (const auto& [id, run] : runs) {
        if (run.state != RunState::queued) continue;
        if (++waiting > kNamed) continue;
        if (run.queue_position > 0)
            parts.push_back(run.agent + " queued, position " + std::to_string(run.queue_position));
        else if (run.attempt > 1)  // waiting out its backoff
            parts.push_back(run.agent + " retrying (attempt " + std::to_string(run.attempt) + ")");
        else
            parts.push_back(run.agent + " queued");
    }
    if (waiting > kNamed) parts.push_back("+" + std::to_string(waiting - kNamed) + " more queued");
    std::string text;
    for (const std::string& part : parts) text += (text.empty() ? "" : "; ") + part;
    return text;
}

std::vector<const RunRecord*> last_attempts(const std::map<std::int64_t, RunRecord>& runs) {
    std::map<std::string, std::size_t> slot;  // agent -> index in out
    std::vector<const RunRecord*> out;
    for (const auto& [id, run] : runs) {
        auto [it, added] = slot.try_emplace(run.agent, out.size());
        if (added)
            out.push_back(&run);
        else if (run.attempt >= out[it->second]->attempt)
            out[it->second] = &run;
    }
    return out;
}

}  // namespace hostline::controller
