#include "agent/spool/spool.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "common/log/module_logger.hpp"
#include "common/proto/codec.hpp"

static constinit hostline::log::ModuleLogger logger{"spool"};

namespace hostline::agent {
namespace {

namespace fs = std::filesystem;

struct Header {
    std::uint32_t length = 0;
    char kind = 0;
    char unused[3] = {};
    std::uint64_t seq = 0;
};
static_assert(sizeof(Header) == 16);

constexpr char kStarted = 'S';
constexpr char kOutput = 'O';
constexpr char kResult = 'R';
constexpr char kAcked = 'A';
constexpr std::uint64_t kForgotten = std::uint64_t{1} << 63;  // in DIR/seen: abandoned

std::string errno_text(int error) {
    return std::strerror(error);
}

// Repeats pread or pwrite until all size bytes have moved; false on an error or the end of
// the file.
template <typename Data, typename Transfer>
bool all_at(Transfer transfer, int fd, Data* data, std::size_t size, std::uint64_t offset) {
    while (size > 0) {
        ssize_t n = transfer(fd, data, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool write_all_at(int fd, const char* data, std::size_t size, std::uint64_t offset) {
    return all_at(::pwrite, fd, data, size, offset);
}

// Writes a record's header and payload at offset with one system call when it can, without
// copying the payload (up to 1 MiB) behind the header first.
bool write_record_at(int fd, const void* header, std::size_t header_size,
                     const std::string& payload, std::uint64_t offset) {
    iovec parts[2] = {{const_cast<void*>(header), header_size},
                      {const_cast<char*>(payload.data()), payload.size()}};
    ssize_t n;
    do {
        n = ::pwritev(fd, parts, 2, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return false;
    const auto written = static_cast<std::size_t>(n);
    if (written == header_size + payload.size()) return true;
    // A short write (a full disk, a signal): the rest one piece at a time.
    const auto* head = static_cast<const char*>(header);
    if (written < header_size &&
        !write_all_at(fd, head + written, header_size - written, offset + written))
        return false;
    const std::size_t payload_done = written > header_size ? written - header_size : 0;
    return write_all_at(fd, payload.data() + payload_done, payload.size() - payload_done,
                        offset + header_size + payload_done);
}

bool read_all_at(int fd, char* data, std::size_t size, std::uint64_t offset) {
    return all_at(::pread, fd, data, size, offset);
}

std::uint64_t record_bytes(std::uint32_t length) {
    return sizeof(Header) + length;
}

}  // namespace

Spool::Spool(std::string dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {}

Spool::~Spool() {
    tidy();
    for (auto& [id, log] : runs_) close_run(log);
    if (seen_fd_ >= 0) ::close(seen_fd_);
}

Result<std::unique_ptr<Spool>> Spool::open(std::string dir, std::uint64_t max_bytes) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return fail("cannot create the spool " + dir + ": " + errno_text(errno));
    std::unique_ptr<Spool> spool(new Spool(std::move(dir), max_bytes));
    if (auto loaded = spool->load(); !loaded) return loaded.error();
    return spool;
}

std::string Spool::log_path(std::uint64_t run_id) const {
    return dir_ + "/" + std::to_string(run_id) + ".log";
}

// ---- reading back what a previous agent left ----------------------------------------------

Result<void> Spool::load() {
    load_seen();
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(kFreePrefix)) {
            keep_free(entry.path().string());
            continue;
        }
        if (name.size() < 5 || name.substr(name.size() - 4) != ".log") continue;
        std::uint64_t run_id = 0;
        auto [end, error] = std::from_chars(name.data(), name.data() + name.size() - 4, run_id);
        if (error != std::errc{} || end != name.data() + name.size() - 4 || run_id == 0) {
            logger->warn("ignoring {} (not a run's log)", entry.path().string());
            continue;
        }
        if (auto loaded = load_run(run_id, entry.path().string()); !loaded) return loaded;
    }
    if (ec) return fail("cannot read the spool " + dir_ + ": " + ec.message());
    if (!runs_.empty())
        logger->info("{} run(s) with {} message(s) ({} bytes) not yet acknowledged{}", runs_.size(),
                     pending_messages(), used_bytes_,
                     interrupted_.empty() ? ""
                                          : "; " + std::to_string(interrupted_.size()) +
                                                " of them were running when the agent stopped");
    return {};
}

Result<void> Spool::load_run(std::uint64_t run_id, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail("cannot open " + path + ": " + errno_text(errno));
    struct stat st {};
    ::fstat(fd, &st);
    const auto file_size = static_cast<std::uint64_t>(st.st_size);

    RunLog log;
    bool started = false;
    std::uint64_t offset = 0;
    while (offset < file_size) {
        Header h;
        bool whole = offset + sizeof h <= file_size &&
                     read_all_at(fd, reinterpret_cast<char*>(&h), sizeof h, offset);
        bool valid =
            whole && h.length <= proto::kMaxMessageBytes &&
            offset + record_bytes(h.length) <= file_size &&
            (h.kind == kStarted || h.kind == kOutput || h.kind == kResult || h.kind == kAcked);
        if (!valid) {
            // The agent stopped in the middle of a write: the rest was never acknowledged to
            // anyone, so it is dropped and the log continues from the last whole record.
            logger->warn("{} ends in a torn record at byte {}; truncated there", path, offset);
            if (::ftruncate(fd, static_cast<off_t>(offset)) != 0)
                logger->warn("truncating {} failed: {}", path, errno_text(errno));
            break;
        }
        if (h.kind == kStarted) {
            started = true;
        } else if (h.kind == kAcked) {
            while (!log.pending.empty() && log.pending.front().seq <= h.seq)
                log.pending.pop_front();
        } else {
            log.pending.push_back(Record{h.seq, offset + sizeof h, h.length});
            log.next_seq = std::max(log.next_seq, h.seq + 1);
            if (h.kind == kResult) log.has_result = true;
        }
        offset += record_bytes(h.length);
    }
    log.size = offset;
    ::close(fd);

    if (log.has_result && log.pending.empty()) {
        ::unlink(path.c_str());  // delivered; the agent stopped before it deleted the log
        return {};
    }
    if (!started && !log.has_result && log.pending.empty()) {
        ::unlink(path.c_str());
        return {};
    }
    for (const Record& r : log.pending) used_bytes_ += record_bytes(r.length);
    if (!log.has_result) interrupted_.push_back(run_id);
    if (!seen(run_id)) remember(run_id);
    runs_.emplace(run_id, std::move(log));
    return {};
}

void Spool::load_seen() {
    std::string path = dir_ + "/seen";
    seen_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (seen_fd_ < 0) {
        logger->warn("cannot open {}: {}; run ids are remembered until the agent stops", path,
                     errno_text(errno));
        return;
    }
    std::vector<std::uint64_t> ids;
    std::uint64_t id = 0;
    std::uint64_t offset = 0;
    while (read_all_at(seen_fd_, reinterpret_cast<char*>(&id), sizeof id, offset)) {
        offset += sizeof id;
        if ((id & kForgotten) != 0) {
            std::erase(ids, id & ~kForgotten);
        } else {
            ids.push_back(id);
        }
    }
    if (ids.size() > kRememberedRuns) ids.erase(ids.begin(), ids.end() - kRememberedRuns);
    for (std::uint64_t run : ids)
        if (seen_.insert(run).second) seen_order_.push_back(run);
    if (offset / sizeof id > 2 * kRememberedRuns) {
        // Rewrite it with what is remembered, so the file stays small.
        std::string tmp = path + ".tmp";
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        std::vector<std::uint64_t> kept(seen_order_.begin(), seen_order_.end());
        if (fd >= 0 &&
            write_all_at(fd, reinterpret_cast<const char*>(kept.data()),
                         kept.size() * sizeof(std::uint64_t), 0) &&
            ::rename(tmp.c_str(), path.c_str()) == 0) {
            ::close(fd);
            ::close(seen_fd_);
            seen_fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
        } else if (fd >= 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
        }
    }
}

// ---- runs -----------------------------------------------------------------------------------

bool Spool::seen(std::uint64_t run_id) const {
    return seen_.contains(run_id);
}

void Spool::remember(std::uint64_t run_id) {
    if (!seen_.insert(run_id).second) return;
    seen_order_.push_back(run_id);
    if (seen_order_.size() > kRememberedRuns) {
        seen_.erase(seen_order_.front());
        seen_order_.pop_front();
    }
    if (seen_fd_ >= 0 && ::write(seen_fd_, &run_id, sizeof run_id) != sizeof run_id)
        logger->warn("cannot record run {} as started: {}", run_id, errno_text(errno));
}

Result<void> Spool::begin_run(std::uint64_t run_id) {
    if (runs_.contains(run_id)) return fail("run " + std::to_string(run_id) + " is already held");
    std::string path = log_path(run_id);
    int fd = reuse_free(path);
    if (fd < 0) fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return fail("the agent's spool cannot hold the run: " + errno_text(errno));
    RunLog log;
    log.fd = fd;
    if (!append(run_id, log, kStarted, 0, {})) {
        int error = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return fail("the agent's spool cannot hold the run: " +
                    errno_text(error != 0 ? error : ENOSPC));
    }
    runs_.emplace(run_id, std::move(log));
    remember(run_id);
    return {};
}

void Spool::abandon_run(std::uint64_t run_id) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    for (Record& r : it->second.pending) {
        drop_unsent(r);
        if (r.on_disk) used_bytes_ -= record_bytes(r.length);
    }
    retire(run_id, it->second);
    runs_.erase(it);
    seen_.erase(run_id);
    std::erase(seen_order_, run_id);
    std::uint64_t forgotten = run_id | kForgotten;
    if (seen_fd_ >= 0 && ::write(seen_fd_, &forgotten, sizeof forgotten) != sizeof forgotten)
        logger->warn("cannot forget run {}: {}", run_id, errno_text(errno));
}

// ---- delivered logs, kept for the next runs ------------------------------------------------

void Spool::keep_free(std::string path) {
    if (free_logs_.size() < kFreeLogs) {
        free_logs_.push_back({std::move(path), false});
    } else {
        ::unlink(path.c_str());
    }
}

void Spool::retire(std::uint64_t run_id, RunLog& log) {
    if (free_logs_.size() < kFreeLogs) {
        // Emptied now, through a descriptor closed right after, rather than when it is reused:
        // ext4 flushes a file truncated to zero at its next close (auto_da_alloc), and that
        // close would be the next run's, at its result. It keeps its name until then (an empty
        // log is one load() deletes), so that taking it costs one rename.
        int fd = fd_of(run_id, log);
        bool emptied = fd >= 0 && ::ftruncate(fd, 0) == 0;
        close_run(log);
        if (emptied) {
            free_logs_.push_back({log_path(run_id), true});
            return;
        }
    }
    close_run(log);
    ::unlink(log_path(run_id).c_str());
}

void Spool::tidy() {
    for (std::uint64_t run_id : std::exchange(delivered_, {})) {
        RunLog closed;  // its log was closed when it was delivered
        retire(run_id, closed);
    }
}

int Spool::reuse_free(const std::string& path) {
    while (!free_logs_.empty()) {
        FreeLog free = std::move(free_logs_.back());
        free_logs_.pop_back();
        // Empty before it takes the run's name (a stop in between must not leave another
        // run's records under this run's name): retire() emptied the logs it kept; one an
        // earlier agent left with its records is emptied now.
        int fd = ::open(free.path.c_str(), O_RDWR | O_CLOEXEC);
        struct stat st {};
        bool empty = fd >= 0 && (free.emptied || (::fstat(fd, &st) == 0 &&
                                                  (st.st_size == 0 || ::ftruncate(fd, 0) == 0)));
        if (empty && ::rename(free.path.c_str(), path.c_str()) == 0) return fd;
        if (fd >= 0) ::close(fd);
        ::unlink(free.path.c_str());
    }
    return -1;
}

int Spool::fd_of(std::uint64_t run_id, RunLog& log) {
    if (log.fd < 0) log.fd = ::open(log_path(run_id).c_str(), O_RDWR | O_CLOEXEC);
    return log.fd;
}

void Spool::close_run(RunLog& log) {
    if (log.fd >= 0) ::close(log.fd);
    log.fd = -1;
}

bool Spool::append(std::uint64_t run_id, RunLog& log, char kind, std::uint64_t seq,
                   const std::string& payload) {
    int fd = fd_of(run_id, log);
    if (fd < 0) return false;
    Header h;
    h.length = static_cast<std::uint32_t>(payload.size());
    h.kind = kind;
    h.seq = seq;
    if (write_record_at(fd, &h, sizeof h, payload, log.size)) {
        log.size += record_bytes(h.length);
        return true;
    }
    int error = errno;
    // A partial record would be read back as a torn tail; cut it off now.
    if (::ftruncate(fd, static_cast<off_t>(log.size)) != 0)
        logger->warn("cannot cut a failed write off run {}'s log: {}", run_id, errno_text(errno));
    errno = error;
    return false;
}

Spool::Stored Spool::add_message(std::uint64_t run_id, proto::Message& message, bool always) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) {
        logger->critical("a message for run {}, which was never begun", run_id);
        std::abort();
    }
    RunLog& log = it->second;
    const std::uint64_t seq = log.next_seq;
    std::visit(
        [&](auto& m) {
            if constexpr (requires { m.seq; }) m.seq = seq;
        },
        message);
    std::string payload = proto::encode(message);
    const bool is_result = std::holds_alternative<proto::RunResult>(message);

    Record record{seq, log.size + sizeof(Header), static_cast<std::uint32_t>(payload.size())};
    bool fits = used_bytes_ + record_bytes(record.length) <= max_bytes_;
    if ((fits || always) && append(run_id, log, is_result ? kResult : kOutput, seq, payload)) {
        used_bytes_ += record_bytes(record.length);
        if (unsent_bytes_ + payload.size() <= kUnsentBytes) {
            unsent_bytes_ += payload.size();
            record.unsent = std::move(payload);
        }
    } else if (always) {
        logger->warn("run {}'s {} kept in memory: the spool {}", run_id,
                     is_result ? "result" : "last output", fits ? "disk is full" : "is full");
        record.on_disk = false;
        record.in_memory = std::move(payload);
    } else {
        return Stored::full;
    }
    log.next_seq++;
    if (is_result) {
        log.has_result = true;
        close_run(log);  // reopened when needed: a backlog of finished runs holds no descriptors
    }
    log.pending.push_back(std::move(record));
    return Stored::yes;
}

// The message travels into the variant and back by move: a 64 KiB chunk is not copied.
template <typename M>
Spool::Stored Spool::add(M& typed, bool always) {
    proto::Message message{std::move(typed)};
    Stored stored = add_message(std::get<M>(message).run_id, message, always);
    typed = std::move(std::get<M>(message));
    return stored;
}

Spool::Stored Spool::add_output(proto::Output& output) {
    return add(output, false);
}

void Spool::add_output_always(proto::Output& output) {
    add(output, true);
}

void Spool::add_result(proto::RunResult& result) {
    add(result, true);
}

void Spool::acknowledge(std::uint64_t run_id, std::uint64_t seq) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    RunLog& log = it->second;
    bool done = log.has_result && !log.pending.empty() && log.pending.back().seq <= seq;
    while (!log.pending.empty() && log.pending.front().seq <= seq) {
        Record& r = log.pending.front();
        drop_unsent(r);
        if (r.in_flight) {
            --in_flight_messages_;
            in_flight_bytes_ -= r.length;
        }
        if (r.on_disk) {
            used_bytes_ -= record_bytes(r.length);
            // A run still going keeps its log: give the acknowledged bytes back to the disk.
            // Best effort: a file system without hole punching keeps them until the run ends.
            if (!done && log.fd >= 0)
                (void)::fallocate(log.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                  static_cast<off_t>(r.offset), static_cast<off_t>(r.length));
        }
        log.pending.pop_front();
    }
    if (done) {
        close_run(log);
        runs_.erase(it);
        delivered_.push_back(run_id);  // emptied by tidy()
        return;
    }
    // Lost on a full disk it only costs a resend after a restart; the controller de-duplicates.
    (void)append(run_id, log, kAcked, seq, {});
}

// ---- sending --------------------------------------------------------------------------------

void Spool::drop_unsent(Record& record) {
    unsent_bytes_ -= record.unsent.size();
    record.unsent = {};
}

std::string Spool::payload_of(std::uint64_t run_id, RunLog& log, Record& record) {
    if (!record.on_disk) return record.in_memory;
    if (!record.unsent.empty()) {
        unsent_bytes_ -= record.unsent.size();
        return std::exchange(record.unsent, {});
    }
    std::string payload(record.length, '\0');
    int fd = fd_of(run_id, log);
    if (fd < 0 || !read_all_at(fd, payload.data(), payload.size(), record.offset)) {
        logger->error("cannot read run {} seq {} back: {}", run_id, record.seq, errno_text(errno));
        payload.clear();
    }
    return payload;
}

std::vector<std::string> Spool::due(Clock::time_point now) {
    std::vector<std::string> frames;
    bool window_full = false;
    for (auto& [run_id, log] : runs_) {
        for (Record& r : log.pending) {
            if (r.in_flight) {
                if (now - r.sent_at < kResendAfter) continue;
            } else {
                bool room =
                    in_flight_messages_ == 0 || (in_flight_messages_ < kWindowMessages &&
                                                 in_flight_bytes_ + r.length <= kWindowBytes);
                if (!room) {
                    window_full = true;
                    break;
                }
                r.in_flight = true;
                ++in_flight_messages_;
                in_flight_bytes_ += r.length;
            }
            r.sent_at = now;
            std::string frame = payload_of(run_id, log, r);
            if (!frame.empty()) frames.push_back(std::move(frame));
        }
        // A finished run's log was opened only to read it back: no descriptor per backlog run.
        if (log.has_result) close_run(log);
        if (window_full) break;
    }
    return frames;
}

void Spool::resend_all() {
    for (auto& [id, log] : runs_)
        for (Record& r : log.pending) r.in_flight = false;
    in_flight_messages_ = 0;
    in_flight_bytes_ = 0;
}

std::vector<proto::HeldRun> Spool::held_runs() const {
    std::vector<proto::HeldRun> out;
    for (const auto& [id, log] : runs_) out.push_back({id, log.has_result});
    return out;
}

std::size_t Spool::pending_messages() const {
    std::size_t n = 0;
    for (const auto& [id, log] : runs_) n += log.pending.size();
    return n;
}

}  // namespace hostline::agent
