// JobWatch: follows one job from the controller until it ends, keeping its latest job
// document, runs and output.
//
// It reads the job's NDJSON event stream; if the stream ends before the job does, it falls
// back to asking for the job every 500 ms and then fetches the stored output, so the
// result is complete either way. Each output chunk is reported once, whichever way it
// came. Single-threaded: handlers run on the caller's thread, inside follow().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.hpp"
#include "common/error.hpp"

namespace hostline::cli {

struct OutputChunk {
    std::int64_t run_id = 0;
    std::string agent;
    std::int64_t seq = 0;
    std::string stream;  // "stdout" or "stderr"
    std::string data;
};

class JobWatch {
  public:
    struct Handlers {
        std::function<void(const nlohmann::json& job)> on_job;  // the job document changed
        std::function<void(const nlohmann::json& run)> on_run;  // a run document changed
        std::function<void(const OutputChunk& chunk)> on_output;
        std::function<void(const std::string& notice)> on_notice;  // for the person watching
    };

    // api must outlive the watch. Handlers may be empty.
    JobWatch(ApiClient& api, std::int64_t job_id, Handlers handlers);

    enum class End {
        job_ended,    // the job is in a final state
        interrupted,  // interrupt_fd became readable first
    };

    // Blocks until the job ends or interrupt_fd (-1: none) becomes readable. An error means
    // the controller refused (an API error: at once) or could not be asked (when polling:
    // for 30 s).
    Result<End> follow(int interrupt_fd);

    const nlohmann::json& job() const { return job_; }
    // The runs by run id.
    const std::map<std::int64_t, nlohmann::json>& runs() const { return runs_; }
    // A run's stdout and stderr as one text, in the order the agent sent them.
    std::string run_output(std::int64_t run_id) const;

  private:
    enum class StreamResult { job_ended, job_ended_before, interrupted, broke, refused };

    StreamResult read_events(int interrupt_fd, std::string& why);
    bool on_event(const nlohmann::json& event, std::size_t index, StreamResult& result,
                  std::string& why);
    Result<End> poll_until_end(int interrupt_fd);
    Result<void> fetch_output();
    void set_run(const nlohmann::json& run);
    void add_output(const nlohmann::json& item);
    void notice(const std::string& text);

    ApiClient& api_;
    const std::int64_t job_id_;
    const std::string path_;  // "/api/v1/jobs/<id>"
    Handlers handlers_;

    nlohmann::json job_;
    std::map<std::int64_t, nlohmann::json> runs_;
    std::map<std::int64_t, std::map<std::int64_t, OutputChunk>> output_;  // run id, seq
};

}  // namespace hostline::cli
