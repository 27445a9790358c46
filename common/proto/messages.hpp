// The messages agents and the controller exchange (docs/protocol.md).
//
// Every message travels as one msgpack map holding `v` (protocol version), `t` (type) and
// the fields below by name. Unknown fields are ignored and missing ones keep their
// defaults, so either side can add fields without breaking the other. Each struct lists
// its fields once, in `each_field`, which the codec uses both to encode and to decode.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace hostline::proto {

inline constexpr int kVersion = 1;
inline constexpr std::size_t kMaxMessageBytes = 4 * 1024 * 1024;  // ZMQ_MAXMSGSIZE
inline constexpr std::size_t kMaxChunkBytes = 64 * 1024;          // one output message's data
// The output one LZ4-compressed output message may stand for (output_encoding.hpp).
inline constexpr std::size_t kMaxCompressedChunkOutput = 1024 * 1024;

using Labels = std::map<std::string, std::string>;

// Raw bytes, encoded as msgpack `bin` rather than `str` (process output need not be UTF-8).
struct Bytes {
    std::string data;
    bool operator==(const Bytes&) const = default;
};

// A run the agent still holds when it says hello: running, or finished with output or a
// result the controller has not acknowledged yet.
struct HeldRun {
    std::uint64_t run_id = 0;
    bool finished = false;
    bool operator==(const HeldRun&) const = default;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("finished", s.finished);
    }
};

struct Hello {
    static constexpr const char* kType = "hello";
    std::string agent_id;
    std::string hostname;
    std::string version;
    Labels labels;
    Labels facts;  // os, kernel, cpus, ...
    std::uint32_t capacity = 0;
    std::vector<HeldRun> runs;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("agent_id", s.agent_id);
        f("hostname", s.hostname);
        f("version", s.version);
        f("labels", s.labels);
        f("facts", s.facts);
        f("capacity", s.capacity);
        f("runs", s.runs);
    }
};

struct Welcome {
    static constexpr const char* kType = "welcome";
    std::string controller_id;
    std::uint32_t heartbeat_ms = 5000;
    // The encodings of output chunks the controller takes besides raw bytes ("lz4":
    // output_encoding.hpp). Absent (a controller that predates them): raw only.
    std::vector<std::string> output_encodings;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("controller_id", s.controller_id);
        f("heartbeat_ms", s.heartbeat_ms);
        f("output_encodings", s.output_encodings);
    }
};

struct Heartbeat {
    static constexpr const char* kType = "heartbeat";
    std::uint32_t running = 0;  // runs the sender is executing (agent) or 0 (controller)
    // Controller -> agent: heartbeat this often from now on (the controller paces a large
    // fleet's heartbeats); 0 or absent: as before.
    std::uint32_t interval_ms = 0;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("running", s.running);
        f("interval_ms", s.interval_ms);
    }
};

struct Run {
    static constexpr const char* kType = "run";
    std::uint64_t run_id = 0;
    std::uint64_t job_id = 0;
    std::vector<std::string> argv;
    Labels env;
    std::string cwd;
    std::uint64_t timeout_ms = 0;  // 0: no timeout
    std::uint64_t output_cap = 0;  // 0: no cap on what the agent sends
    std::string user;              // run as this user (agent must be root); empty: agent's
    std::string group;             // primary group; empty: the user's
    // A catalog script to run (empty: none). Then argv is [interpreter, placeholder, args...]
    // and the agent replaces argv[1] with the path of its private copy of the script, after
    // checking that the content hashes to script_sha256 (lowercase hex).
    Bytes script;
    std::string script_sha256;
    // The catalog command this run comes from; empty: an ad-hoc run. The agent may refuse
    // a run by it (agent.toml [agent.accept]); peers that predate it ignore it.
    std::string command;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("job_id", s.job_id);
        f("argv", s.argv);
        f("env", s.env);
        f("cwd", s.cwd);
        f("timeout_ms", s.timeout_ms);
        f("output_cap", s.output_cap);
        f("user", s.user);
        f("group", s.group);
        f("script", s.script);
        f("script_sha256", s.script_sha256);
        f("command", s.command);
    }
};

struct RunAck {
    static constexpr const char* kType = "run_ack";
    std::uint64_t run_id = 0;
    bool accepted = false;
    std::string reason;  // why it was rejected
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("accepted", s.accepted);
        f("reason", s.reason);
    }
};

// Output and RunResult share one sequence per run: chunks are 1..n, the result is n+1.
struct Output {
    static constexpr const char* kType = "output";
    std::uint64_t run_id = 0;
    std::uint64_t seq = 0;
    std::string stream;  // "stdout" | "stderr"
    Bytes data;
    // "" (absent): data is the bytes as written; "lz4": data is them compressed, and size is
    // how many they are (output_encoding.hpp). Only to a controller whose welcome lists it.
    std::string encoding;
    std::uint32_t size = 0;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("seq", s.seq);
        f("stream", s.stream);
        f("data", s.data);
        f("encoding", s.encoding);
        f("size", s.size);
    }
};

struct RunResult {
    static constexpr const char* kType = "result";
    std::uint64_t run_id = 0;
    std::uint64_t seq = 0;  // last output seq + 1
    // "exited" (see exit_code), "signaled" (see signal), "timed_out", "cancelled",
    // "failed_to_start" (see error), "interrupted" (the agent stopped while it ran: the
    // restarted agent reports it, with the output read until then, and never runs it again).
    std::string status;
    std::int32_t exit_code = -1;
    std::int32_t signal = 0;
    std::int64_t started_at_ms = 0;  // Unix epoch milliseconds
    std::int64_t ended_at_ms = 0;
    std::uint64_t stdout_bytes = 0;
    std::uint64_t stderr_bytes = 0;
    bool truncated = false;
    std::string error;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("seq", s.seq);
        f("status", s.status);
        f("exit_code", s.exit_code);
        f("signal", s.signal);
        f("started_at_ms", s.started_at_ms);
        f("ended_at_ms", s.ended_at_ms);
        f("stdout_bytes", s.stdout_bytes);
        f("stderr_bytes", s.stderr_bytes);
        f("truncated", s.truncated);
        f("error", s.error);
    }
};

// Cumulative: everything of run_id up to and including seq is stored.
struct Ack {
    static constexpr const char* kType = "ack";
    std::uint64_t run_id = 0;
    std::uint64_t seq = 0;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
        f("seq", s.seq);
    }
};

struct Cancel {
    static constexpr const char* kType = "cancel";
    std::uint64_t run_id = 0;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("run_id", s.run_id);
    }
};

struct Bye {
    static constexpr const char* kType = "bye";
    std::string reason;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("reason", s.reason);
    }
};

// An agent whose key the controller does not know asks to be accepted with an enrollment
// token's secret. The controller answers with an EnrollReply.
struct Enroll {
    static constexpr const char* kType = "enroll";
    std::string agent_id;  // the name it asks for
    std::string hostname;
    std::string version;
    Labels labels;       // its own; the token's labels are added by the controller
    std::string secret;  // the token's one-time secret (never logged)
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("agent_id", s.agent_id);
        f("hostname", s.hostname);
        f("version", s.version);
        f("labels", s.labels);
        f("secret", s.secret);
    }
};

struct EnrollReply {
    static constexpr const char* kType = "enroll_reply";
    bool accepted = false;
    std::string agent_id;  // the name the key was accepted as
    Labels labels;         // the token's labels, for agent.toml
    std::string reason;    // why it was refused
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("accepted", s.accepted);
        f("agent_id", s.agent_id);
        f("labels", s.labels);
        f("reason", s.reason);
    }
};

// The answer to a message the receiver could not use. `code` is machine-readable:
// "malformed", "unknown_type", "version", "no_session" (send hello first), "not_accepted"
// (the agent's key waits for an admin: pending, or its name is taken), "revoked" (the
// agent's key was revoked: nothing more is accepted from it).
//
// This message is the same in every protocol version and every version reads it whatever
// its `v` (codec.hpp), so that a side refusing another version is understood.
struct ErrorReply {
    static constexpr const char* kType = "error";
    std::string code;
    std::string message;
    // With code "version": the protocol version the sender speaks (0: not said).
    std::uint32_t speaks = 0;
    template <class S, class F>
    static void each_field(S& s, F&& f) {
        f("code", s.code);
        f("message", s.message);
        f("speaks", s.speaks);
    }
};

using Message = std::variant<Hello, Welcome, Heartbeat, Run, RunAck, Output, RunResult, Ack, Cancel,
                             Bye, ErrorReply, Enroll, EnrollReply>;

}  // namespace hostline::proto
