#include "controller/scheduler/held_acks.hpp"

#include <algorithm>

namespace hostline::controller {

bool HeldAcks::hold(const std::string& agent, std::uint64_t run_id, std::uint64_t seq,
                    std::uint64_t bytes) {
    Agent& a = agents_[agent];
    Held& held = a.runs[run_id];
    held.seq = std::max(held.seq, seq);
    ++held.messages;
    held.bytes += bytes;
    ++a.messages;
    a.bytes += bytes;
    return a.messages >= kBatchMessages || a.bytes >= kBatchBytes;
}

void HeldAcks::forget(const std::string& agent, std::uint64_t run_id) {
    auto a = agents_.find(agent);
    if (a == agents_.end()) return;
    auto held = a->second.runs.find(run_id);
    if (held == a->second.runs.end()) return;
    a->second.messages -= held->second.messages;
    a->second.bytes -= held->second.bytes;
    a->second.runs.erase(held);
    if (a->second.runs.empty()) agents_.erase(a);
}

std::vector<proto::Ack> HeldAcks::take(const std::string& agent) {
    std::vector<proto::Ack> acks;
    auto a = agents_.find(agent);
    if (a == agents_.end()) return acks;
    for (const auto& [run_id, held] : a->second.runs) acks.push_back(proto::Ack{run_id, held.seq});
    agents_.erase(a);
    return acks;
}

std::vector<std::pair<std::string, proto::Ack>> HeldAcks::take_all() {
    std::vector<std::pair<std::string, proto::Ack>> acks;
    for (const auto& [agent, a] : agents_)
        for (const auto& [run_id, held] : a.runs)
            acks.emplace_back(agent, proto::Ack{run_id, held.seq});
    agents_.clear();
    return acks;
}

}  // namespace hostline::controller
