// GET /api/v1/jobs/{id}/events: a job's events as newline-delimited JSON over a chunked
// response, or one JSON message each over a WebSocket when the request is an upgrade, from a
// JobService subscription, until the job is final or the client goes.
//
// Runs on the io_context thread. Memory is bounded: a client that leaves more than
// kMaxUnwrittenBytes unread gets a last "slow_consumer" error line and is disconnected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "controller/http/exchange.hpp"
#include "controller/jobs/job_service.hpp"

namespace hostline::controller::http {

// Runs work later on the io_context thread, unless the server has been destroyed by then.
using Defer = std::function<void(std::function<void()>)>;

class EventStream : public std::enable_shared_from_this<EventStream> {
  public:
    static constexpr std::size_t kMaxUnwrittenBytes = std::size_t{8} << 20;

    // Subscribes to the job and answers `exchange`: an error response if the subscription
    // fails (404 for an unknown job), else the stream, over a WebSocket if `websocket` (the
    // request is an upgrade). The JobService's listener keeps the stream alive until it is
    // unsubscribed.
    static void start(JobService& jobs, std::int64_t job_id, std::shared_ptr<Exchange> exchange,
                      bool websocket, Defer defer);

    EventStream(JobService& jobs, std::int64_t job_id, std::shared_ptr<Exchange> exchange,
                bool websocket, Defer defer);

  private:
    void subscribe();
    void on_subscribed(Result<std::uint64_t> subscription);
    void on_event(const JobEvent& event);
    void on_client_gone();
    void emit(std::string lines, bool last);
    // Ends the stream after `lines` and drops the subscription. The connection is then kept
    // for the client's next request if it asked, or closed (a slow consumer: it may not be
    // reading at all).
    void finish(std::string lines,
                Exchange::AfterStream after = Exchange::AfterStream::keep_if_asked);
    // From inside a JobService callback: unsubscribe on the next turn of the loop, so the
    // service is never re-entered while it is calling us.
    void unsubscribe_later();

    enum class Phase { subscribing, streaming, done };

    JobService& jobs_;
    const std::int64_t job_id_;
    const std::shared_ptr<Exchange> exchange_;
    const bool websocket_;
    const Defer defer_;

    Phase phase_ = Phase::subscribing;
    std::optional<std::uint64_t> subscription_;
    std::string early_lines_;  // events that came before the subscription was confirmed
    bool early_final_ = false;
};

}  // namespace hostline::controller::http
