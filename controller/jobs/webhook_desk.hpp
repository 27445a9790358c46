// What the HTTP server hands an inbound webhook call to (POST /hooks/NAME, docs/webhooks.md):
// the hook's name, the request's headers and its raw body. The desk checks the signature,
// and posts or runs what the hook says; the answer carries the status the caller gets.
//
// Threads: the controller's io_context thread; `answer` is called there exactly once, now or
// once a job the call started is committed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/header_list.hpp"

namespace hostline::controller {

struct WebhookCall {
    std::string name;  // the NAME of /hooks/NAME
    HeaderList headers;
    std::string body;  // raw: the signature covers these exact bytes
};

struct WebhookAnswer {
    unsigned status = 202;  // 202 done; 400, 401, 403, 404, 409, 422 refused (nothing done)
    std::string message;    // the error's message, or what was done
    std::optional<std::int64_t> job_id;  // a run hook's job
};

class WebhookDesk {
  public:
    virtual ~WebhookDesk() = default;
    virtual void receive(WebhookCall call, std::function<void(WebhookAnswer)> answer) = 0;
};

}  // namespace hostline::controller
