#include "agent/spool/outbox.hpp"

namespace hostline::agent {
namespace {

constexpr std::size_t kMaxSeen = 100000;

}  // namespace

bool Outbox::remember_run(std::uint64_t run_id) {
    if (!seen_.insert(run_id).second) return false;
    seen_order_.push_back(run_id);
    if (seen_order_.size() > kMaxSeen) {
        seen_.erase(seen_order_.front());
        seen_order_.pop_front();
    }
    return true;
}

std::uint64_t Outbox::add_output(proto::Output output, Clock::time_point now) {
    RunQueue& q = runs_[output.run_id];
    output.seq = q.next_seq++;
    std::uint64_t seq = output.seq;
    q.pending.push_back({std::move(output), seq, now});
    return seq;
}

std::uint64_t Outbox::add_result(proto::RunResult result, Clock::time_point now) {
    RunQueue& q = runs_[result.run_id];
    result.seq = q.next_seq++;
    std::uint64_t seq = result.seq;
    q.has_result = true;
    q.pending.push_back({std::move(result), seq, now});
    return seq;
}

void Outbox::acknowledge(std::uint64_t run_id, std::uint64_t seq) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    RunQueue& q = it->second;
    while (!q.pending.empty() && q.pending.front().seq <= seq) q.pending.pop_front();
    if (q.has_result && q.pending.empty()) runs_.erase(it);
}

std::vector<proto::Message> Outbox::all(Clock::time_point now) {
    std::vector<proto::Message> out;
    for (auto& [id, q] : runs_)
        for (Pending& p : q.pending) {
            p.sent_at = now;
            out.push_back(p.message);
        }
    return out;
}

std::vector<proto::Message> Outbox::older_than(std::chrono::milliseconds age,
                                               Clock::time_point now) {
    std::vector<proto::Message> out;
    for (auto& [id, q] : runs_)
        for (Pending& p : q.pending)
            if (now - p.sent_at >= age) {
                p.sent_at = now;
                out.push_back(p.message);
            }
    return out;
}

std::vector<proto::HeldRun> Outbox::held_runs() const {
    std::vector<proto::HeldRun> out;
    for (const auto& [id, q] : runs_) out.push_back({id, q.has_result});
    return out;
}

std::size_t Outbox::pending_messages() const {
    std::size_t n = 0;
    for (const auto& [id, q] : runs_) n += q.pending.size();
    return n;
}

}  // namespace hostline::agent
