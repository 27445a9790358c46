// A real Hostline cluster on loopback for integration tests and benchmarks: the
// hostline-controller and hostline-agent binaries started as processes in a temporary
// directory, and the hostline CLI run the way a user runs it. Everything it starts it stops,
// by PID. Failures throw std::runtime_error with the reason (this is test support code: a
// test framework reports them, a benchmark prints them).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hostline::testing {

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// A catalog command `bounce UNIT` that echoes "bounced UNIT on AGENT" once `count` (1) member
// of `group` has approved it; `targets` (a target expression) limits where it may run.
std::string bounce_command_toml(const std::string& group, const std::string& targets = "");

// Runs argv to completion (killing it after timeout) and captures stdout and stderr; its
// standard input is read from stdin_path.
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::string& stdin_path = "/dev/null");

// The sqlite3 command line tool (scripts/install-deps.sh installs it) on `database`, running
// `sql`; its rows on stdout, fields separated by '|'.
CommandResult run_sql(const std::string& database, const std::string& sql);

// Starts argv in the background with output to log_path; returns its pid.
pid_t start_process(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::string& stdin_path = "/dev/null");

bool process_alive(pid_t pid);  // false for zombies too

// One HTTP answer, as a client sees it (the body as sent: not de-chunked).
struct HttpReply {
    int status = 0;
    std::string content_type;
    std::string body;
};

int free_tcp_port();  // on 127.0.0.1

struct AgentOptions {
    std::map<std::string, std::string> labels;
    int capacity = 4;
    std::string kill_grace = "1s";
    bool accepted = true;  // put its key in the controller's accepted dir
    // Appended to its agent.toml: whole sections, e.g. "[agent.accept]\nadhoc = false\n".
    std::string extra_toml;
    // Where it connects; empty: the cluster's controller (a proxy in between, for example).
    std::string controller_endpoint;
    // Its state directory; empty: DIR/agents/NAME (a small disk mounted elsewhere, say).
    std::string state_dir;
    // Added to its [agent] table (extra_toml cannot reopen it), e.g. "spool_max_bytes = 1\n".
    std::string agent_toml;
};

// One HTTP answer as it came: the status, the head (status line and headers) and the body.
// Request headers beyond Host, Content-Type, Content-Length and Authorization.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct ApiAnswer {
    int status = 0;
    std::string head;
    std::string body;
};

class LocalCluster {
  public:
    // bin_dir holds the three binaries; empty: $HOSTLINE_BIN_DIR.
    explicit LocalCluster(std::string bin_dir = "");
    ~LocalCluster();  // stops everything it started; removes the directory unless keep_dir()
    void keep_dir() { keep_dir_ = true; }
    // The daemons' log level (default debug: tests read the logs); set before starting them.
    void set_log_level(std::string level) { log_level_ = std::move(level); }
    std::string logs() const;  // every log, for a failure report

    const std::string& dir() const { return dir_; }
    const std::string& http_url() const { return http_url_; }
    std::string token_file() const { return controller_dir_ + "/admin.token"; }
    std::string database() const { return controller_dir_ + "/hostline.db"; }
    std::string bin(const std::string& name) const;

    // Appends TOML (whole sections) to controller.toml; call before start_controller().
    void add_controller_config(const std::string& toml);
    // The controller's heartbeat interval (default 500ms, quick for tests), e.g. "5s" for a
    // benchmark of 1,000 agents; call before start_controller().
    void set_heartbeat(const std::string& interval);
    // The output stored per run (default 16 MiB), e.g. 1 GiB for the output benchmark; call
    // once, before start_controller().
    void set_output_cap_bytes(std::uint64_t bytes);
    // [controller] max_heartbeats_per_second (default 250; 0: no pacing); call once, before
    // start_controller().
    void set_max_heartbeats_per_second(std::uint32_t rate);
    // [controller] compress_output (default true); may change between restarts.
    void set_compress_output(bool on);
    // Writes policy.toml and points [controller] policy_file at it; later calls rewrite
    // the file only (send SIGHUP or `hostline policy reload` to apply it).
    void set_policy(const std::string& toml);
    std::string policy_path() const { return dir_ + "/policy.toml"; }
    // Writes DIR/commands.d/catalog.toml and points [catalog] dir at it; call before
    // start_controller().
    void set_catalog(const std::string& toml);
    void signal_controller(int signal);
    void start_controller();
    void kill_controller();  // SIGKILL
    int stop_controller();   // SIGTERM and wait; its wait status (-1: none to stop)
    void add_agent(const std::string& name, AgentOptions options = {});
    // Starts hostline-agent with a config of the test's own (e.g. one `enroll` wrote); `id`
    // names its log (DIR/agents/ID.log) and stop_agent(id) stops it.
    void start_agent(const std::string& id, const std::string& config_path);
    // Accepts a CURVE public key as agent `name`, as add_agent does for the agents it starts:
    // for a client the test drives itself.
    void accept_agent_key(const std::string& name, const std::string& public_key);
    pid_t controller_pid() const { return controller_pid_; }
    pid_t agent_pid(const std::string& name) const;  // -1: none running under that name
    // Where agents connect, and the controller's public key (after start_controller()).
    std::string agent_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(agent_port_); }
    const std::string& controller_public_key() const { return controller_public_key_; }
    void stop_agent(const std::string& name);  // SIGTERM and wait
    void signal_agent(const std::string& name, int signal);
    std::string agent_log(const std::string& name) const;
    std::string controller_log() const;

    // Waits until these agents show online in `hostline agents --json`.
    void wait_online(const std::vector<std::string>& names,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // Runs `hostline ARGS...` against this cluster.
    CommandResult cli(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
    // Same with --json, parsed. Throws if stdout is not JSON.
    nlohmann::json cli_json(const std::vector<std::string>& args, int* exit_code = nullptr);
    // Same, but an empty object when the command fails or prints no JSON.
    nlohmann::json try_cli_json(const std::vector<std::string>& args);
    // Says text in the terminal chat as identity (POST /api/v1/chat with the admin token);
    // returns the replies, one per line, once the conversation has ended.
    std::string chat(const std::string& identity, const std::string& text);
    // GET path on the controller's HTTP server with this bearer token; none when empty.
    HttpReply http_get(const std::string& path, const std::string& token) const;
    std::string admin_secret() const;  // the admin token, once the controller has started
    // Starts `hostline ARGS...` in the background.
    pid_t cli_background(const std::vector<std::string>& args, const std::string& log_path);

    // Polls `hostline job ID --json` until pred holds; returns the last document.
    template <typename Pred>
    nlohmann::json wait_job(long job_id, Pred pred,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

  private:
    // Adds KEY = VALUE (TOML) to [controller]; a key already there is a mistake.
    void add_controller_key(const std::string& key, const std::string& value);
    std::string bin_dir_;
    bool keep_dir_ = false;
    std::string log_level_ = "debug";
    std::string dir_;
    std::string controller_dir_;
    int agent_port_ = 0;
    std::string controller_public_key_;
    std::string http_url_;
    pid_t controller_pid_ = -1;
    std::map<std::string, pid_t> agents_;

    // Faults, for tests/faults: daemons killed and started again as a crash would leave them.
  public:
    // SIGKILL and reap: no goodbye, nothing flushed, as in a crash or the OOM killer.
    void kill_agent(const std::string& name);
    // Starts a stopped or killed agent again with the same agent.toml and state directory.
    void restart_agent(const std::string& name);
    bool controller_alive() const;
    bool agent_alive(const std::string& name) const;
    int agent_port() const { return agent_port_; }
    // POSTs body to path (e.g. /api/v1/jobs) with the admin token and returns the answer's
    // JSON; throws unless the answer is a 2xx with a JSON body.
    nlohmann::json post_api(const std::string& path, const nlohmann::json& body);
    // Any request to the controller's HTTP server with this bearer token (empty: no
    // Authorization header) and headers (e.g. a webhook's signature), the answer whatever its
    // status. Throws only when no HTTP answer comes.
    ApiAnswer api(const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "", const HttpHeaders& headers = {});

  private:
    std::map<std::string, std::string> agent_configs_;  // agent.toml of each agent started
};

template <typename Pred>
nlohmann::json LocalCluster::wait_job(long job_id, Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json doc;
    while (std::chrono::steady_clock::now() < deadline) {
        doc = try_cli_json({"job", std::to_string(job_id)});
        if (!doc.empty() && pred(doc)) return doc;
        struct timespec ts {
            0, 100 * 1000 * 1000
        };
        nanosleep(&ts, nullptr);
    }
    return doc;
}

}  // namespace hostline::testing
