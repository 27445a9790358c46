// Heartbeats answered where they arrive. With 10,000 agents on a 5 s heartbeat, 2,000
// heartbeats a second handed from the transport thread to the io thread, and their replies
// handed back, were most of the controller's idle CPU: four thread hops each
// (docs/performance.md, "Fleet scale"). The transport thread answers the heartbeat of an agent
// in session itself and notes when it was heard here; the scheduler collects those times
// once per tick, before it judges who is silent.
//
// Only agents in session are answered here: the heartbeat of any other is handed on to the
// scheduler as before, which answers error{no_session} so the agent says hello again.
//
// Thread-safe: answer() on the transport thread, everything else on the io thread.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hostline::controller {

class AgentPresence {
  public:
    using Clock = std::chrono::steady_clock;

    explicit AgentPresence(std::string reply);  // the encoded heartbeat that answers one
    void set_reply(std::string reply);          // io thread: answers from now on

    // io thread: the agent said hello (its heartbeats are answered on arrival from now on),
    // or went offline or was revoked (they go to the scheduler again).
    void open(const std::string& agent);
    void close(const std::string& agent);
    // io thread: who was heard since the last call, and when last.
    std::vector<std::pair<std::string, Clock::time_point>> take_heard();

    // Transport thread: a heartbeat from `agent` arrived at `at`. The reply to send if the
    // agent is in session (the heartbeat is done with), else nothing (hand it on).
    std::optional<std::string> answer(const std::string& agent, Clock::time_point at);

  private:
    std::mutex mutex_;
    std::string reply_;
    // Agents in session, with when they were last heard if it was since take_heard().
    std::unordered_map<std::string, std::optional<Clock::time_point>> sessions_;
    std::vector<std::string> heard_;  // the agents whose time above is set
};

}  // namespace hostline::controller
