#include "controller/http/event_stream.hpp"

#include <utility>
#include <variant>

#include "controller/http/json_views.hpp"

namespace hostline::controller::http {
namespace {

bool is_last(const JobEvent& event) {
    const auto* changed = std::get_if<JobEvent::JobChanged>(&event.what);
    return changed != nullptr && is_final(changed->job.state);
}

}  // namespace

void EventStream::start(JobService& jobs, std::int64_t job_id, std::shared_ptr<Exchange> exchange,
                        bool websocket, Defer defer) {
    std::make_shared<EventStream>(jobs, job_id, std::move(exchange), websocket, std::move(defer))
        ->subscribe();
}

EventStream::EventStream(JobService& jobs, std::int64_t job_id, std::shared_ptr<Exchange> exchange,
                         bool websocket, Defer defer)
    : jobs_(jobs),
      job_id_(job_id),
      exchange_(std::move(exchange)),
      websocket_(websocket),
      defer_(std::move(defer)) {}

void EventStream::subscribe() {
    auto self = shared_from_this();
    jobs_.subscribe(
        job_id_, [self](const JobEvent& event) { self->on_event(event); },
        [self](Result<std::uint64_t> subscription) {
            self->on_subscribed(std::move(subscription));
        });
}

void EventStream::on_subscribed(Result<std::uint64_t> subscription) {
    if (!subscription) {
        phase_ = Phase::done;
        exchange_->respond(job_error_response(subscription.error()));
        return;
    }
    subscription_ = *subscription;
    std::weak_ptr<EventStream> weak = weak_from_this();
    auto gone = [weak] {
        if (auto self = weak.lock()) self->on_client_gone();
    };
    const bool started = websocket_
                             ? exchange_->start_websocket(std::move(gone))
                             : exchange_->start_stream("application/x-ndjson", std::move(gone));
    if (!started) {
        phase_ = Phase::done;
        unsubscribe_later();
        return;
    }
    phase_ = Phase::streaming;
    if (!early_lines_.empty()) emit(std::exchange(early_lines_, {}), early_final_);
}

void EventStream::on_event(const JobEvent& event) {
    if (phase_ == Phase::done) return;
    const bool last = is_last(event);
    if (phase_ == Phase::subscribing) {
        early_lines_ += event_line(event);
        early_final_ = early_final_ || last;
        return;
    }
    emit(event_line(event), last);
}

void EventStream::emit(std::string lines, bool last) {
    if (exchange_->unwritten_bytes() + lines.size() > kMaxUnwrittenBytes) {
        finish(error_event_line("slow_consumer",
                                "the client read too slowly: more than 8 MiB of events were "
                                "waiting to be sent, so the stream was ended"),
               Exchange::AfterStream::close);
        return;
    }
    if (last) {
        finish(std::move(lines));
        return;
    }
    exchange_->send(std::move(lines));
}

void EventStream::finish(std::string lines, Exchange::AfterStream after) {
    phase_ = Phase::done;
    exchange_->send(std::move(lines));
    exchange_->end_stream(after);
    unsubscribe_later();
}

void EventStream::on_client_gone() {
    if (phase_ == Phase::done) return;
    phase_ = Phase::done;
    // Not inside a JobService callback: the connection closed under us (or the server is
    // stopping, and the service must hear it before the server is gone).
    if (subscription_) jobs_.unsubscribe(*subscription_);
}

void EventStream::unsubscribe_later() {
    if (!subscription_) return;
    defer_([&jobs = jobs_, subscription = *subscription_] { jobs.unsubscribe(subscription); });
}

}  // namespace hostline::controller::http
