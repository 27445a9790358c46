#include "agent/agent.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "agent/controller_link.hpp"
#include "agent/host_facts.hpp"
#include "agent/run_acceptance.hpp"
#include "agent/runner/output_chunker.hpp"
#include "agent/runner/process_runner.hpp"
#include "agent/runner/script_file.hpp"
#include "agent/service_status.hpp"
#include "agent/spool/spool.hpp"
#include "agent/state_dir.hpp"
#include "agent/version_refusal.hpp"
#include "common/log/log_config.hpp"
#include "common/log/module_logger.hpp"
#include "common/proto/codec.hpp"
#include "common/proto/output_encoding.hpp"
#include "common/transport/curve_keys.hpp"

static constinit hostline::log::ModuleLogger logger{"agent"};

namespace hostline::agent {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kDefaultHeartbeat{5000};
// How often output waiting for room in a full spool tries again.
constexpr milliseconds kSpoolRetry{200};
// On a clean stop, how long to wait for the controller to acknowledge what is spooled (the
// rest stays on disk for the next start).
constexpr milliseconds kStopFlush{1000};
// A controller of another protocol version is asked again this often: it may be upgraded.
constexpr milliseconds kOtherVersionRetry{60000};

}  // namespace

class Agent::Impl {
  public:
    explicit Impl(AgentConfig config)
        : config_(std::move(config)),
          scripts_(config_.state_dir + "/scripts"),
          runner_(ProcessRunner::Listener{
              [this](std::uint64_t id, Stream s, std::string_view b) { on_output(id, s, b); },
              [this](std::uint64_t id, const Exit& e) { on_exit(id, e); }}) {}

    Result<void> start() {
        // Before any thread exists (ZeroMQ starts its own with the first socket, and they take
        // this mask until they block everything themselves): a SIGTERM that reaches one of
        // them in that window would kill the agent without its orderly stop.
        block_stop_signals();
        if (auto prepared = prepare_state_dir(config_.state_dir); !prepared)
            return prepared.error();
        auto keys = transport::load_or_create_key_pair(config_.state_dir, "agent");
        if (!keys) return keys.error();
        const std::string fingerprint = transport::key_fingerprint(keys->public_key);
        logger->info(
            "agent '{}' public key {} ({}/agent.pub), fingerprint {}; controller {} (from {})",
            config_.name, keys->public_key, config_.state_dir, fingerprint,
            config_.controller_endpoint, config_.controller_source);
        status_.emplace(config_.controller_endpoint, fingerprint);
        if (auto prepared = scripts_.prepare(); !prepared) return prepared.error();
        auto spool = Spool::open(config_.state_dir + "/spool", config_.spool_max_bytes);
        if (!spool) return spool.error();
        spool_ = std::move(*spool);
        spooled_compressed_ = spool_->pending_messages() > 0;
        for (std::uint64_t run_id : spool_->interrupted()) report_interrupted(run_id);
        link_ = std::make_unique<ControllerLink>(
            config_.controller_endpoint, config_.controller_public_key, *keys, config_.name,
            ControllerLink::Handlers{
                .on_connected = [this] { say_hello(); },
                .on_message = [this](proto::Message m) { on_message(std::move(m)); },
                .on_disconnected =
                    [this] { status_->unreachable(std::chrono::system_clock::now()); }});
        return link_->connect();
    }

    static sigset_t stop_signals() {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);  // re-read [log]
        return mask;
    }

    static void block_stop_signals() {
        sigset_t mask = stop_signals();
        sigprocmask(SIG_BLOCK, &mask, nullptr);
    }

    int run() {
        block_stop_signals();
        sigset_t mask = stop_signals();
        ::signal(SIGPIPE, SIG_IGN);
        int signal_fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (signal_fd < 0) {
            logger->critical("signalfd failed");
            return 1;
        }
        // Ready once SIGTERM is handled, and without waiting for the controller: one that is
        // down must not fail the agent's unit.
        status_->started();
        last_heard_ = Clock::now();
        next_heartbeat_ = Clock::now() + heartbeat_;

        std::vector<zmq::pollitem_t> items;
        std::vector<pollfd> runner_fds;
        // On SIGTERM/SIGINT: cancel what runs and keep the loop going until every result is
        // spooled, and briefly for the controller to acknowledge them (what it has not stays
        // in the spool), but no longer than the deadline.
        std::optional<Clock::time_point> stop_deadline;
        std::optional<Clock::time_point> flush_deadline;
        while (!stop_deadline || Clock::now() < *stop_deadline) {
            items.clear();
            runner_fds.clear();
            link_->add_poll_items(items);
            items.push_back({nullptr, signal_fd, ZMQ_POLLIN, 0});
            runner_.add_poll_fds(runner_fds);
            for (const pollfd& p : runner_fds) items.push_back({nullptr, p.fd, ZMQ_POLLIN, 0});

            auto now = Clock::now();
            auto deadline = next_heartbeat_;
            for (auto d : {runner_.next_deadline(), chunker_.next_deadline(),
                           link_->next_deadline(), next_spool_deadline()})
                if (d) deadline = std::min(deadline, *d);
            if (stop_deadline) deadline = std::min(deadline, *stop_deadline);
            if (flush_deadline) deadline = std::min(deadline, *flush_deadline);
            auto wait =
                std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - now) +
                                              milliseconds(1));
            try {
                zmq::poll(items.data(), items.size(), wait);
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) {
                    logger->critical("poll failed: {}", e.what());
                    return 1;
                }
            }
            now = Clock::now();
            if (items[2].revents & ZMQ_POLLIN) {
                signalfd_siginfo info{};
                bool signalled = false;
                while (::read(signal_fd, &info, sizeof info) == sizeof info) {
                    if (info.ssi_signo == SIGHUP)
                        reload_log_levels();
                    else
                        signalled = true;
                }
                if (signalled && !stop_deadline) stop_deadline = begin_stop(now);
            }
            for (std::size_t i = 0; i < runner_fds.size(); ++i)
                runner_fds[i].revents = static_cast<short>(items[3 + i].revents);
            runner_.on_poll(runner_fds);
            send_chunks(chunker_.flush_due(now));
            link_->on_poll(items.data(), now);
            on_tick(now);
            settle_all(now);
            send_due(now);
            spool_->tidy();  // last: nothing waits for it
            if (stop_deadline && runner_.running() == 0 && running_.empty()) {
                if (spool_->pending_messages() == 0) break;
                if (!flush_deadline) flush_deadline = now + kStopFlush;
                if (now >= *flush_deadline) break;
            }
        }
        if (spool_->pending_messages() > 0)
            logger->info(
                "stopping with {} unacknowledged message(s); they stay in the spool and "
                "are sent after the next start",
                spool_->pending_messages());
        link_->send(proto::Bye{"agent stopping"});
        ::close(signal_fd);
        return 0;
    }

  private:
    // SIGHUP: [log] of the config file again; a bad file leaves the levels as they were.
    void reload_log_levels() {
        auto changed = log::reload(log::Program::agent, config_.config_path, "",
                                   config_.log.command_line_level);
        if (changed)
            logger->info("signal SIGHUP: log levels reloaded: {}", *changed);
        else
            logger->error("signal SIGHUP: log levels unchanged: {}", changed.error().message);
    }

    // A run from its start until its result is spooled.
    struct RunOutput {
        std::uint64_t cap = 0;
        std::uint64_t sent = 0;     // bytes taken for the controller (the cap counts these)
        bool truncated = false;     // cut at the cap
        std::deque<Chunk> waiting;  // for room in the spool
        std::optional<Clock::time_point> full_since;
        bool dropping = false;  // the spool stayed full: the rest of the output is dropped
        std::uint64_t dropped = 0;
        std::optional<Exit> exit;  // the process ended; the result waits for the output
    };

    void say_hello() {
        welcomed_ = false;  // until the controller answers: then everything unacked goes again
        proto::Hello hello;
        hello.agent_id = config_.name;
        hello.hostname = host_name();
        hello.version = HOSTLINE_VERSION;
        hello.labels = config_.labels;
        hello.facts = host_facts();
        hello.capacity = config_.capacity;
        hello.runs = spool_->held_runs();  // every run begun and not yet delivered
        link_->send(hello);
    }

    void on_message(proto::Message message) {
        last_heard_ = Clock::now();
        std::visit([this](auto& m) { handle(m); }, message);
    }

    void handle(proto::Welcome& m) {
        heartbeat_ = milliseconds(std::clamp<std::uint32_t>(m.heartbeat_ms, 100, 60000));
        next_heartbeat_ = std::min(next_heartbeat_, Clock::now() + heartbeat_);
        logger->info("welcomed by controller '{}' (heartbeat {} ms){}", m.controller_id,
                     heartbeat_.count(),
                     spool_->pending_messages() == 0
                         ? ""
                         : "; sending " + std::to_string(spool_->pending_messages()) +
                               " spooled message(s)");
        welcomed_ = true;
        compress_output_ =
            std::ranges::find(m.output_encodings, proto::kEncodingLz4) != m.output_encodings.end();
        last_refusal_.clear();
        status_->welcomed(config_.name);
        spool_->resend_all();
    }

    void handle(proto::Run& m) {
        auto reject = [&](std::string reason) {
            logger->warn("run {} rejected: {}", m.run_id, reason);
            link_->send(proto::RunAck{m.run_id, false, std::move(reason)});
        };
        // Before de-duplication: a refusal depends only on the run and this host's config, so
        // a re-sent run (our rejection was lost) is refused again rather than taken as held.
        if (auto refused = refusal(config_.accept, m)) return reject(std::move(*refused));
        if (spool_->seen(m.run_id)) {
            // Never twice, also across agent restarts. Still held: the controller's resend
            // crossed our run_ack. Not held: its result was delivered long ago.
            if (spool_->holds(m.run_id)) {
                link_->send(proto::RunAck{m.run_id, true, "already received"});
                return;
            }
            return reject("run " + std::to_string(m.run_id) +
                          " already ran on this agent, which never starts a run twice");
        }
        if (cancelled_early_.erase(m.run_id) > 0) return reject("cancelled before it started");
        if (runner_.running() >= config_.capacity)
            return reject("agent is at capacity (" + std::to_string(config_.capacity) +
                          " running)");
        RunSpec spec;
        spec.run_id = m.run_id;
        spec.argv = m.argv;
        spec.env = m.env;
        // Let the automation know where it runs (like Salt's grains, without a lookup).
        spec.env["HOSTLINE_AGENT"] = config_.name;
        spec.env["HOSTLINE_JOB_ID"] = std::to_string(m.job_id);
        spec.env["HOSTLINE_RUN_ID"] = std::to_string(m.run_id);
        spec.cwd = m.cwd;
        spec.timeout = milliseconds(m.timeout_ms);
        spec.kill_grace = milliseconds(config_.kill_grace_ms);
        spec.user = m.user;
        spec.group = m.group;
        // A hash without content is a script too: one the controller no longer holds.
        const bool is_script = !m.script.data.empty() || !m.script_sha256.empty();
        if (is_script && spec.argv.size() < 2)
            return reject("a script run needs argv [interpreter, script, args...]");
        // Remembered on disk before anything runs, so no restart can start it again.
        if (auto begun = spool_->begin_run(m.run_id); !begun) return reject(begun.error().message);
        if (is_script) {
            auto path = scripts_.write(m.run_id, m.script.data, m.script_sha256, m.user);
            if (!path) {
                spool_->abandon_run(m.run_id);
                return reject(path.error().message);
            }
            spec.argv[1] = *path;
        }
        if (auto started = runner_.start(spec); !started) {
            scripts_.remove(m.run_id);
            spool_->abandon_run(m.run_id);
            return reject(started.error().message);
        }
        running_[m.run_id] = RunOutput{m.output_cap};
        logger->info("run {} (job {}) started: {}", m.run_id, m.job_id,
                     m.argv.empty() ? "" : m.argv[0]);
        link_->send(proto::RunAck{m.run_id, true, ""});
    }

    void handle(proto::Cancel& m) {
        logger->info("run {} cancelled by the controller", m.run_id);
        if (runner_.is_running(m.run_id)) {
            runner_.cancel(m.run_id);
        } else if (!spool_->seen(m.run_id) && cancelled_early_.size() < 10000) {
            // The cancel overtook its run: refuse the run when it arrives.
            cancelled_early_.insert(m.run_id);
        }
    }

    void handle(proto::Ack& m) { spool_->acknowledge(m.run_id, m.seq); }

    void handle(proto::ErrorReply& m) {
        if (m.code == "no_session") {
            say_hello();
            return;
        }
        if (m.code == "not_accepted") {
            // Pending (or its name is taken): say so once per distinct reason, keep asking.
            if (m.message != last_refusal_) logger->warn("not accepted yet: {}", m.message);
            last_refusal_ = m.message;
            status_->not_accepted(m.message, config_.name);
            return;
        }
        if (m.code == "revoked") {
            logger->error("the controller revoked this agent: {}; nothing more will run here",
                          m.message);
            status_->refused("the controller revoked this agent");
            reset_link(Clock::now());
            return;
        }
        if (m.code == "version") {
            // Nothing can pass until someone installs matching packages: ask again slowly.
            const std::string why = version_refusal(m, config_.controller_endpoint);
            if (why != last_refusal_)
                logger->error("{}; asking again every {} s", why,
                              kOtherVersionRetry.count() / 1000);
            last_refusal_ = why;
            status_->refused(why);
            welcomed_ = false;
            link_->pause(Clock::now(), kOtherVersionRetry);
            return;
        }
        logger->warn("controller reported an error: {} ({})", m.message, m.code);
    }

    void handle(proto::Bye& m) {
        const auto delay = link_->hang_up(Clock::now());
        logger->info("controller is going away: {}; connecting again in {} ms", m.reason,
                     delay.count());
        welcomed_ = false;
        status_->unreachable(std::chrono::system_clock::now());
    }
    // The controller paces a large fleet: it may ask for a longer (or again shorter) heartbeat.
    void handle(proto::Heartbeat& m) {
        if (m.interval_ms == 0) return;
        const milliseconds asked(std::clamp<std::uint32_t>(m.interval_ms, 100, 60000));
        if (asked == heartbeat_) return;
        logger->info("the controller asks for a heartbeat every {} ms (was {} ms)", asked.count(),
                     heartbeat_.count());
        heartbeat_ = asked;
        next_heartbeat_ = std::min(next_heartbeat_, Clock::now() + heartbeat_);
    }
    template <typename Other>
    void handle(Other& m) {
        logger->warn("unexpected '{}' from the controller; ignored", Other::kType);
        (void)m;
    }

    // ---- output, from the process to the spool ----------------------------------------------

    void on_output(std::uint64_t run_id, Stream stream, std::string_view bytes) {
        send_chunks(chunker_.append(run_id, stream, bytes, Clock::now()));
    }

    void send_chunks(std::vector<Chunk> chunks) {
        std::set<std::uint64_t> touched;
        for (Chunk& c : chunks) {
            auto it = running_.find(c.run_id);
            if (it == running_.end()) continue;
            RunOutput& out = it->second;
            if (out.cap != 0) {
                if (out.sent >= out.cap) {
                    out.truncated = true;
                    continue;
                }
                if (out.sent + c.data.size() > out.cap) {
                    c.data.resize(out.cap - out.sent);
                    out.truncated = true;
                }
            }
            out.sent += c.data.size();
            if (out.dropping) {
                out.dropped += c.data.size();
                continue;
            }
            touched.insert(c.run_id);
            out.waiting.push_back(std::move(c));
        }
        for (std::uint64_t id : touched) settle(id, Clock::now());
    }

    // Moves the run's waiting output into the spool while it has room; with none, the run's
    // pipes are not read (its process blocks) until there is, for at most spool_full_wait.
    // Once its output is spooled and its process ended, its result is spooled.
    void settle(std::uint64_t run_id, Clock::time_point now) {
        auto it = running_.find(run_id);
        if (it == running_.end()) return;
        RunOutput& out = it->second;
        while (!out.waiting.empty()) {
            Chunk& c = out.waiting.front();
            if (!spool_message_of(c)) break;  // it waits for room
            if (c.spooled == c.data.size()) out.waiting.pop_front();
        }
        if (!out.waiting.empty() && !out.full_since) {
            out.full_since = now;
            runner_.pause_output(run_id, true);
            logger->warn(
                "spool full ({} of {} bytes unacknowledged, or the disk is full): run "
                "{}'s output waits for room for up to {} ms",
                spool_->used_bytes(), spool_->max_bytes(), run_id, config_.spool_full_wait_ms);
        }
        if (!out.waiting.empty() &&
            now - *out.full_since >= milliseconds(config_.spool_full_wait_ms)) {
            // A process is never blocked for ever: the rest of its output is cut.
            out.dropping = true;
            for (const Chunk& c : out.waiting) out.dropped += c.data.size() - c.spooled;
            out.waiting.clear();
            logger->warn("spool still full after {} ms: run {}'s further output is dropped",
                         config_.spool_full_wait_ms, run_id);
        }
        if (out.waiting.empty() && out.full_since) {
            out.full_since.reset();
            runner_.pause_output(run_id, false);
        }
        if (out.waiting.empty() && out.exit) finish(run_id, out);
    }

    // Spools the next message of c's output: as much of it as one compressed message holds,
    // or the next kMaxChunkBytes as they are. False when the spool has no room (nothing of c
    // is taken then).
    bool spool_message_of(Chunk& c) {
        const std::string_view rest = std::string_view(c.data).substr(c.spooled);
        proto::Output msg{c.run_id, 0, std::string(stream_name(c.stream)), {}};
        proto::CompressedChunk compressed;
        if (compress_output_) compressed = proto::compress_chunk(rest, compress_scratch_);
        std::size_t took = 0;
        bool moved = false;
        if (!compressed.bytes.empty()) {
            msg.data.data = std::string(compressed.bytes);
            msg.encoding = proto::kEncodingLz4;
            msg.size = static_cast<std::uint32_t>(compressed.consumed);
            took = compressed.consumed;
        } else if (took = std::min(rest.size(), proto::kMaxChunkBytes); took == c.data.size()) {
            msg.data.data = std::move(c.data);  // the whole chunk, as it is: no copy
            moved = true;
        } else {
            msg.data.data = std::string(rest.substr(0, took));
        }
        if (spool_->add_output(msg) == Spool::Stored::full) {
            if (moved) c.data = std::move(msg.data.data);
            return false;
        }
        if (!msg.encoding.empty()) spooled_compressed_ = true;
        if (moved) {
            c.data.clear();  // all of it is spooled
            c.spooled = 0;
        } else {
            c.spooled += took;
        }
        return true;
    }

    void settle_all(Clock::time_point now) {
        std::vector<std::uint64_t> waiting;
        for (const auto& [id, out] : running_)
            if (!out.waiting.empty()) waiting.push_back(id);
        for (std::uint64_t id : waiting) settle(id, now);
    }

    std::optional<Clock::time_point> next_spool_deadline() const {
        std::optional<Clock::time_point> earliest;
        for (const auto& [id, out] : running_) {
            if (!out.full_since) continue;
            auto at = std::min(Clock::now() + kSpoolRetry,
                               *out.full_since + milliseconds(config_.spool_full_wait_ms));
            if (!earliest || at < *earliest) earliest = at;
        }
        return earliest;
    }

    void on_exit(std::uint64_t run_id, const Exit& exit) {
        scripts_.remove(run_id);
        send_chunks(chunker_.flush_run(run_id));
        auto it = running_.find(run_id);
        if (it == running_.end()) return;
        it->second.exit = exit;
        settle(run_id, Clock::now());
    }

    // Everything of the run's output is spooled (or dropped): its result follows.
    void finish(std::uint64_t run_id, RunOutput& out) {
        const Exit& exit = *out.exit;
        if (out.dropping) {
            proto::Output marker{
                run_id, 0, "stderr",
                proto::Bytes{"\n[hostline: output cut: " + std::to_string(out.dropped) +
                             " bytes dropped because the agent's spool was "
                             "full]\n"}};
            spool_->add_output_always(marker);
        }
        proto::RunResult result;
        result.run_id = run_id;
        result.status = std::string(status_name(exit.status));
        result.exit_code = exit.exit_code;
        result.signal = exit.signal;
        result.started_at_ms = exit.started_at_ms;
        result.ended_at_ms = exit.ended_at_ms;
        result.stdout_bytes = exit.stdout_bytes;
        result.stderr_bytes = exit.stderr_bytes;
        result.truncated = out.truncated || out.dropping;
        result.error = exit.error;
        logger->info("run {} finished: {} (exit {}, signal {})", run_id, result.status,
                     result.exit_code, result.signal);
        spool_->add_result(result);
        running_.erase(run_id);
    }

    // A run the previous agent process started and never finished (it died with it).
    void report_interrupted(std::uint64_t run_id) {
        proto::RunResult result;
        result.run_id = run_id;
        result.status = "interrupted";
        result.error =
            "interrupted: the agent stopped while the run was in progress; it is not run again";
        logger->warn("run {} was interrupted by an agent restart; reporting it", run_id);
        spool_->add_result(result);
    }

    // ---- to the controller ------------------------------------------------------------------

    void send_due(Clock::time_point now) {
        if (!welcomed_ || !link_->connected()) return;
        for (std::string& frame : spool_->due(now)) {
            if (spooled_compressed_ && !compress_output_) frame = uncompressed(std::move(frame));
            link_->send_frame(frame);
        }
    }

    // A frame for a controller that takes raw output only (one of an earlier release, or one
    // that turned compression off) though it was spooled compressed for another: an
    // output chunk goes as the bytes the process wrote.
    static std::string uncompressed(std::string frame) {
        auto message = proto::decode(frame);
        if (!message) return frame;  // our own spool's: cannot happen, and sent as it is
        auto* output = std::get_if<proto::Output>(&*message);
        if (output == nullptr || output->encoding.empty()) return frame;
        auto raw = proto::decode_chunk(output->encoding, output->data.data, output->size);
        if (!raw) {
            logger->error("run {}'s spooled output {} does not decode: {}", output->run_id,
                          output->seq, raw.error().message);
            return frame;
        }
        output->data.data = std::move(*raw);
        output->encoding.clear();
        output->size = 0;
        return proto::encode(*message);
    }

    void reset_link(Clock::time_point now) {
        welcomed_ = false;
        link_->reset(now);
    }

    void on_tick(Clock::time_point now) {
        if (now >= next_heartbeat_) {
            next_heartbeat_ = now + heartbeat_;
            link_->send(proto::Heartbeat{static_cast<std::uint32_t>(runner_.running())});
        }
        // A controller silent for three heartbeats is gone: rebuild the link.
        if (link_->connected() && now - last_heard_ > 3 * heartbeat_ + milliseconds(1000)) {
            logger->warn("no word from the controller for {} ms",
                         std::chrono::duration_cast<milliseconds>(now - last_heard_).count());
            status_->unreachable(
                std::chrono::system_clock::now() -
                std::chrono::duration_cast<std::chrono::system_clock::duration>(now - last_heard_));
            reset_link(now);
            last_heard_ = now;
        }
    }

    Clock::time_point begin_stop(Clock::time_point now) {
        logger->info("stopping: cancelling {} running process(es)", runner_.running());
        status_->stopping();
        for (const auto& [id, out] : running_) runner_.cancel(id);
        return now + milliseconds(config_.kill_grace_ms) + milliseconds(3000);
    }

    const AgentConfig config_;
    ScriptFiles scripts_;  // before runner_: its processes die before their scripts go
    ProcessRunner runner_;
    OutputChunker chunker_;
    std::unique_ptr<Spool> spool_;
    std::unique_ptr<ControllerLink> link_;
    std::optional<ServiceStatus> status_;  // from start(): it names the key
    std::map<std::uint64_t, RunOutput> running_;
    std::set<std::uint64_t> cancelled_early_;  // cancels that arrived before their run
    milliseconds heartbeat_ = kDefaultHeartbeat;
    bool welcomed_ = false;  // the controller answered our hello: spooled messages may go
    // The controller's last welcome said it takes LZ4-compressed output chunks.
    bool compress_output_ = false;
    // Some output was spooled compressed (or a previous agent's may have been): a controller
    // that takes raw output only gets it decompressed.
    bool spooled_compressed_ = false;
    std::string compress_scratch_;  // proto::compress_chunk's
    std::string last_refusal_;
    Clock::time_point last_heard_;
    Clock::time_point next_heartbeat_;
};

Agent::Agent(AgentConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Agent::~Agent() = default;
Result<void> Agent::start() {
    return impl_->start();
}
int Agent::run() {
    return impl_->run();
}

}  // namespace hostline::agent
