// The agent's spool: every output chunk and result it owes the controller, kept on disk until
// the controller acknowledges it, so that neither a lost connection, a controller restart nor
// an agent restart loses a byte (docs/reliability.md). It also remembers which runs it has
// started, across restarts, so a run is never started twice.
//
// On disk (DIR, 0700): one append-only log per run, DIR/RUN.log, of records
//   [u32 payload length][u8 kind][3 unused][u64 seq][payload]
// in the host's byte order: `S` the run started (no payload), `M` a message (an encoded
// proto::Output or proto::RunResult; seq is its sequence number), `A` the controller
// acknowledged everything up to seq. A log whose result is acknowledged is done with: up to
// kFreeLogs of them are emptied and renamed into the next runs' logs, the rest deleted
// (creating a file made ext4 look for a free inode past the recently deleted ones of every
// earlier run: a quarter of the agent's CPU for a /bin/true run). An empty log is one a
// restarted agent deletes; DIR/free-RUN files, which earlier releases kept, are reused. Acked
// payloads of a run still going are punched out of the file (FALLOC_FL_PUNCH_HOLE) so a long
// run's log does not keep what is safe. DIR/seen lists the run ids started here, 8 bytes each.
//
// What counts against max_bytes is what is not acknowledged yet. Output that does not fit (or
// that the disk refuses) is not stored: add_output() says `full` and the caller waits or drops
// (agent.cpp). A result, and the marker that says output was cut, always fit: if the disk
// refuses them they are kept in memory (lost only if the agent also dies before they are
// acknowledged).
//
// What is sent at once is sent from memory (a copy kept until it is first sent, kUnsentBytes
// in all); only a resend, or a backlog past that, reads the log back.
//
// Sending is flow-controlled: at most kWindowMessages messages (and kWindowBytes bytes) are
// sent and not acknowledged at a time, so a controller is never handed more than it can store
// and an outage's backlog drains at the controller's pace. Single-threaded: the agent's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/proto/messages.hpp"

namespace hostline::agent {

class Spool {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::size_t kWindowMessages = 64;
    static constexpr std::uint64_t kWindowBytes = std::uint64_t{4} << 20;
    static constexpr std::chrono::milliseconds kResendAfter{10000};
    static constexpr std::size_t kRememberedRuns = 10000;
    static constexpr std::size_t kFreeLogs = 16;
    static constexpr std::uint64_t kUnsentBytes = kWindowBytes;
    static constexpr std::string_view kFreePrefix = "free-";

    enum class Stored { yes, full };

    // Opens (creating) the spool in dir and reads back what a previous agent left there.
    static Result<std::unique_ptr<Spool>> open(std::string dir, std::uint64_t max_bytes);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Runs a previous agent process started and never finished: it stopped while they ran.
    // Their output so far is held; each still needs its result (add_result).
    const std::vector<std::uint64_t>& interrupted() const { return interrupted_; }

    // Whether this agent has started run_id (the last kRememberedRuns runs).
    bool seen(std::uint64_t run_id) const;
    // Records that run_id starts: its log exists and the id is remembered. Fails when the disk
    // refuses even that (the run must then be refused).
    Result<void> begin_run(std::uint64_t run_id);
    // The run could not be started after all: forget it, as if begin_run never happened.
    void abandon_run(std::uint64_t run_id);

    // Stores an output chunk and gives it the run's next seq. `full`: nothing was stored
    // (over max_bytes, or the disk refused it); try again once something is acknowledged.
    Stored add_output(proto::Output& output);
    // Same, for the short note that output was cut: never full (memory if the disk refuses).
    void add_output_always(proto::Output& output);
    // Stores the run's result with the run's next seq; never fails (memory if it must).
    void add_result(proto::RunResult& result);

    // Everything of run_id up to seq is stored by the controller. Frees what it covers; the
    // log of a run delivered whole is emptied for reuse by the next tidy().
    void acknowledge(std::uint64_t run_id, std::uint64_t seq);
    // Empties the logs of the runs delivered since the last call. File system work that
    // nothing waits for: the agent does it once the messages at hand are handled (an ack
    // often comes with the next run, which should not wait for it).
    void tidy();

    // The encoded messages to send now: not sent yet (within the window), or sent longer
    // than kResendAfter ago without an acknowledgement.
    std::vector<std::string> due(Clock::time_point now);
    // A new session with the controller: whatever was in flight may be gone; send it all again.
    void resend_all();

    // Runs with something unacknowledged, and whether their result is among it.
    std::vector<proto::HeldRun> held_runs() const;
    bool holds(std::uint64_t run_id) const { return runs_.contains(run_id); }
    std::size_t pending_messages() const;
    std::uint64_t used_bytes() const { return used_bytes_; }
    std::uint64_t max_bytes() const { return max_bytes_; }

  private:
    struct Record {
        std::uint64_t seq = 0;
        std::uint64_t offset = 0;  // of the payload in the run's log (when on disk)
        std::uint32_t length = 0;  // payload bytes
        bool on_disk = true;
        std::string in_memory;  // the payload, when the disk refused it
        // A copy of an on-disk payload until it is first sent (within kUnsentBytes in all), so
        // that what goes out at once is not read back from the disk; a resend reads it.
        std::string unsent;
        bool in_flight = false;
        Clock::time_point sent_at{};
    };
    struct RunLog {
        int fd = -1;  // open while the run goes on; finished runs open it when needed
        std::uint64_t size = 0;
        std::uint64_t next_seq = 1;
        bool has_result = false;
        std::deque<Record> pending;
    };

    Spool(std::string dir, std::uint64_t max_bytes);
    Result<void> load();
    Result<void> load_run(std::uint64_t run_id, const std::string& path);
    void load_seen();
    void remember(std::uint64_t run_id);
    std::string log_path(std::uint64_t run_id) const;
    // Appends one record to the run's log; false (and the log as it was) if the disk refused.
    bool append(std::uint64_t run_id, RunLog& log, char kind, std::uint64_t seq,
                const std::string& payload);
    // Gives the message the run's next seq (when stored) and stores it.
    Stored add_message(std::uint64_t run_id, proto::Message& message, bool always);
    template <typename M>
    Stored add(M& typed, bool always);
    int fd_of(std::uint64_t run_id, RunLog& log);
    // A log done with: kept among free_logs_ while there is room, deleted otherwise.
    void keep_free(std::string path);
    void retire(std::uint64_t run_id, RunLog& log);
    // A free log, emptied and renamed to path, open; -1 when there is none.
    int reuse_free(const std::string& path);
    void close_run(RunLog& log);
    // The payload to send; takes the unsent copy when there is one.
    std::string payload_of(std::uint64_t run_id, RunLog& log, Record& record);
    void drop_unsent(Record& record);

    const std::string dir_;
    const std::uint64_t max_bytes_;
    std::map<std::uint64_t, RunLog> runs_;
    std::vector<std::uint64_t> interrupted_;
    struct FreeLog {
        std::string path;
        bool emptied = false;  // by retire(); one found at start may still hold records
    };
    std::vector<FreeLog> free_logs_;        // logs done with, for the next runs
    std::vector<std::uint64_t> delivered_;  // runs whose logs tidy() empties
    std::set<std::uint64_t> seen_;
    std::deque<std::uint64_t> seen_order_;
    int seen_fd_ = -1;
    std::uint64_t used_bytes_ = 0;
    std::size_t in_flight_messages_ = 0;
    std::uint64_t in_flight_bytes_ = 0;
    std::uint64_t unsent_bytes_ = 0;  // of the records' unsent copies
};

}  // namespace hostline::agent
