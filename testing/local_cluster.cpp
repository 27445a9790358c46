#include "testing/local_cluster.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/process/spawn_with_log.hpp"
#include "common/transport/curve_keys.hpp"

extern char** environ;

namespace hostline::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

[[noreturn]] void fail_with(const std::string& message) {
    throw std::runtime_error(message);
}

std::string admin_token(const std::string& token_file) {
    std::ifstream token_in(token_file);
    std::string token;
    std::getline(token_in, token);
    return token;
}

// One HTTP/1.1 request to the controller at http_url (http://127.0.0.1:PORT) with the bearer
// token (none when empty) and any further headers; returns the whole response, read until
// the controller closes the connection.
std::string http_exchange(const std::string& http_url, const std::string& method,
                          const std::string& path, const std::string& token,
                          const std::string& body, const HttpHeaders& headers = {}) {
    const auto colon = http_url.rfind(':');
    const int port = std::stoi(http_url.substr(colon + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (fd >= 0) ::close(fd);
        fail_with("cannot connect to " + http_url);
    }
    std::string authorization = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
    for (const auto& [name, value] : headers) authorization += name + ": " + value + "\r\n";
    const std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                authorization +
                                "Content-Type: application/json\r\nConnection: close\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buffer[4096];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 60000) > 0) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        response.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return response;
}

}  // namespace

CommandResult run_sql(const std::string& database, const std::string& sql) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin");
    std::string tool = "sqlite3 (not on PATH: see scripts/install-deps.sh)";
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const auto candidate = fs::path(dir) / "sqlite3";
        if (::access(candidate.c_str(), X_OK) == 0) {
            tool = candidate;
            break;
        }
    }
    return run_command({tool, database, sql});
}

int free_tcp_port() {
    // A port handed out is free until its server binds it, and the kernel may offer it again
    // in between: a test's IRC server and its controller's agent port were once the same
    // (the controller then could not listen). Each port is handed out once per process.
    static std::mutex mutex;
    static std::set<int> handed_out;
    int port = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        ::close(fd);
        port = ntohs(addr.sin_port);
        std::lock_guard lock(mutex);
        if (handed_out.insert(port).second) break;
    }
    return port;
}

namespace {

// Signals pid and waits for it (SIGKILL after 15 s); its wait status, or -1.
int stop_pid(pid_t pid, int signal) {
    if (pid <= 0) return -1;
    ::kill(pid, signal);
    int status = -1;
    for (int i = 0; i < 300; ++i) {
        pid_t reaped = ::waitpid(pid, &status, WNOHANG);
        if (reaped == pid) return status;
        if (reaped < 0) return -1;
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return status;
}

std::vector<char*> c_args(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    return args;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::string& stdin_path) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
        fail_with("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    pid_t pid = -1;
    auto args = c_args(argv);
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    CommandResult result;
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        fail_with("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            result.err += "\n[test harness: killed after timeout]";
            break;
        }
        ::poll(fds, 2, static_cast<int>(left.count()));
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

pid_t start_process(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::string& stdin_path) {
    auto pid = process::spawn_with_log(argv, log_path, stdin_path);
    if (!pid) fail_with(pid.error().message);
    return *pid;
}

bool process_alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close_paren = text.rfind(')');
    if (close_paren == std::string::npos || close_paren + 2 >= text.size()) return false;
    char state = text[close_paren + 2];
    return state != 'Z' && state != 'X';
}

LocalCluster::LocalCluster(std::string bin_dir) : bin_dir_(std::move(bin_dir)) {
    char tmpl[] = "/tmp/hostline-it-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    controller_dir_ = dir_ + "/controller";
    fs::create_directories(controller_dir_ + "/agents");
    fs::permissions(controller_dir_, fs::perms::owner_all);
    auto keys = transport::load_or_create_key_pair(controller_dir_ + "/keys", "controller");
    if (!keys) fail_with(keys.error().message);
    controller_public_key_ = keys->public_key;
    agent_port_ = free_tcp_port();
    write_file(dir_ + "/controller.toml",
               "[controller]\n"
               "data_dir = \"" +
                   controller_dir_ +
                   "\"\n"
                   "agent_listen = \"tcp://127.0.0.1:" +
                   std::to_string(agent_port_) +
                   "\"\n"
                   "heartbeat = \"500ms\"\n"
                   "agent_grace = \"20s\"\n"
                   "[http]\nport = " +
                   std::to_string(free_tcp_port()) + "\n");
}

LocalCluster::~LocalCluster() {
    // All signalled first, then reaped: one by one, 1,000 agents took 50 s (a poll each).
    for (auto& [name, pid] : agents_)
        if (pid > 0) ::kill(pid, SIGTERM);
    for (auto& [name, pid] : agents_) stop_pid(pid, SIGTERM);
    stop_pid(controller_pid_, SIGTERM);
    if (!keep_dir_) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string LocalCluster::logs() const {
    std::string out = "--- controller log ---\n" + controller_log();
    for (const auto& [name, pid] : agents_)
        out += "--- agent " + name + " log ---\n" + agent_log(name);
    return out + "(directory " + dir_ + ")\n";
}

std::string LocalCluster::bin(const std::string& name) const {
    if (!bin_dir_.empty()) return bin_dir_ + "/" + name;
    const char* dir = std::getenv("HOSTLINE_BIN_DIR");
    return std::string(dir ? dir : ".") + "/" + name;
}

void LocalCluster::add_controller_config(const std::string& toml) {
    write_file(dir_ + "/controller.toml", read_file(dir_ + "/controller.toml") + toml);
}

void LocalCluster::set_heartbeat(const std::string& interval) {
    std::string config = read_file(dir_ + "/controller.toml");
    const std::string key = "heartbeat = \"";
    const auto start = config.find(key);
    if (start == std::string::npos) fail_with("controller.toml has no heartbeat line");
    const auto end = config.find('\n', start);
    config.replace(start, end - start, key + interval + "\"");
    write_file(dir_ + "/controller.toml", config);
}

void LocalCluster::set_output_cap_bytes(std::uint64_t bytes) {
    add_controller_key("output_cap_bytes", std::to_string(bytes));
}

void LocalCluster::set_max_heartbeats_per_second(std::uint32_t rate) {
    add_controller_key("max_heartbeats_per_second", std::to_string(rate));
}

void LocalCluster::set_compress_output(bool on) {
    std::string config = read_file(dir_ + "/controller.toml");
    const std::string key = "\ncompress_output = ";
    if (const auto start = config.find(key); start != std::string::npos) {
        const auto end = config.find('\n', start + 1);
        config.replace(start, end - start, key + (on ? "true" : "false"));
        write_file(dir_ + "/controller.toml", config);
        return;
    }
    add_controller_key("compress_output", on ? "true" : "false");
}

void LocalCluster::add_controller_key(const std::string& key, const std::string& value) {
    std::string config = read_file(dir_ + "/controller.toml");
    if (config.find("\n" + key + " = ") != std::string::npos)
        fail_with("controller.toml has its " + key + " already");
    config.insert(config.find("[controller]\n") + 13, key + " = " + value + "\n");
    write_file(dir_ + "/controller.toml", config);
}

void LocalCluster::start_controller() {
    std::error_code ec;
    fs::remove(controller_dir_ + "/endpoints", ec);
    controller_pid_ = start_process({bin("hostline-controller"), "--config",
                                     dir_ + "/controller.toml", "--log-level", log_level_},
                                    dir_ + "/controller.log");
    for (int i = 0; i < 300; ++i) {
        std::string endpoints = read_file(controller_dir_ + "/endpoints");
        auto pos = endpoints.find("http=");
        if (pos != std::string::npos) {
            http_url_ = endpoints.substr(pos + 5);
            http_url_ = http_url_.substr(0, http_url_.find('\n'));
            return;
        }
        if (!process_alive(controller_pid_)) fail_with("controller exited:\n" + controller_log());
        std::this_thread::sleep_for(50ms);
    }
    fail_with("controller did not start:\n" + controller_log());
}

std::string bounce_command_toml(const std::string& group, const std::string& targets) {
    return R"toml(
[[command]]
name = "bounce"
summary = "Restart a service (needs one approval from )toml" +
           group + R"toml()"
run = ["sh", "-c", "echo \"bounced $0 on $HOSTLINE_AGENT\"", "{unit}"]
)toml" + (targets.empty() ? "" : "targets = \"" + targets + "\"\n") +
           R"toml(
[[command.param]]
name = "unit"
type = "string"
pattern = "^[a-z]+$"
required = true
help = "the service"

[command.approval]
group = ")toml" +
           group + R"toml("
count = 1
expiry = "10m"
)toml";
}

void LocalCluster::set_catalog(const std::string& toml) {
    const std::string catalog = dir_ + "/commands.d";
    std::filesystem::create_directories(catalog);
    if (!std::filesystem::exists(catalog + "/catalog.toml"))
        add_controller_config("[catalog]\ndir = \"" + catalog + "\"\n");
    write_file(catalog + "/catalog.toml", toml);
}

void LocalCluster::set_policy(const std::string& toml) {
    std::string config = read_file(dir_ + "/controller.toml");
    const std::string line = "policy_file = \"" + policy_path() + "\"\n";
    if (config.find(line) == std::string::npos) {
        config.insert(config.find("[controller]\n") + 13, line);
        write_file(dir_ + "/controller.toml", config);
    }
    write_file(policy_path(), toml);
}

void LocalCluster::signal_controller(int signal) {
    if (controller_pid_ > 0) ::kill(controller_pid_, signal);
}

void LocalCluster::signal_agent(const std::string& name, int signal) {
    if (auto it = agents_.find(name); it != agents_.end() && it->second > 0)
        ::kill(it->second, signal);
}

HttpReply LocalCluster::http_get(const std::string& path, const std::string& token) const {
    const std::string response = http_exchange(http_url_, "GET", path, token, "");
    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos) fail_with("no HTTP answer from " + http_url_ + path);
    HttpReply reply;
    std::istringstream head(response.substr(0, head_end));
    std::string line;
    std::getline(head, line);  // HTTP/1.1 200 OK
    const auto space = line.find(' ');
    if (space == std::string::npos) fail_with("not an HTTP status line: " + line);
    reply.status = std::atoi(line.c_str() + space + 1);
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name == "content-type")
            reply.content_type = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    reply.body = response.substr(head_end + 4);
    return reply;
}

std::string LocalCluster::admin_secret() const {
    return hostline::testing::admin_token(token_file());
}

std::string LocalCluster::chat(const std::string& identity, const std::string& text) {
    const std::string body = nlohmann::json{{"identity", identity}, {"text", text}}.dump();
    const std::string response =
        http_exchange(http_url_, "POST", "/api/v1/chat", admin_token(token_file()), body);
    const auto head_end = response.find("\r\n\r\n");
    if (head_end == std::string::npos) fail_with("no HTTP answer from " + http_url_);
    const std::string head = response.substr(0, head_end);
    std::string rest = response.substr(head_end + 4), data;
    if (head.find("chunked") == std::string::npos) return head + "\n" + rest;  // an error
    while (!rest.empty()) {  // chunked: SIZE CRLF DATA CRLF ... 0 CRLF CRLF
        const auto eol = rest.find("\r\n");
        const std::size_t size = std::stoul(rest.substr(0, eol), nullptr, 16);
        if (size == 0) break;
        data += rest.substr(eol + 2, size);
        rest.erase(0, eol + 2 + size + 2);
    }
    std::string replies;
    std::istringstream lines(data);
    for (std::string line; std::getline(lines, line);) {
        auto doc = nlohmann::json::parse(line, nullptr, false);
        if (doc.is_object() && doc.contains("text"))
            replies += doc["text"].get<std::string>() + "\n";
    }
    return replies;
}

void LocalCluster::kill_controller() {
    // kill(-1) would signal every process we may signal: never without a controller.
    if (controller_pid_ <= 0) fail_with("no controller is running");
    ::kill(controller_pid_, SIGKILL);
    int status;
    ::waitpid(controller_pid_, &status, 0);
    controller_pid_ = -1;
}

int LocalCluster::stop_controller() {
    int status = stop_pid(controller_pid_, SIGTERM);
    controller_pid_ = -1;
    return status;
}

void LocalCluster::add_agent(const std::string& name, AgentOptions options) {
    std::string state_dir =
        options.state_dir.empty() ? dir_ + "/agents/" + name : options.state_dir;
    fs::create_directories(dir_ + "/agents");  // its agent.toml and log, wherever its state is
    fs::create_directories(state_dir);
    auto keys = transport::load_or_create_key_pair(state_dir, "agent");
    if (!keys) fail_with(keys.error().message);
    if (options.accepted) accept_agent_key(name, keys->public_key);
    std::string labels;
    for (const auto& [k, v] : options.labels) labels += k + " = \"" + v + "\"\n";
    const std::string endpoint =
        options.controller_endpoint.empty() ? agent_endpoint() : options.controller_endpoint;
    std::string toml = dir_ + "/agents/" + name + ".toml";
    write_file(toml, "[agent]\nname = \"" + name + "\"\nstate_dir = \"" + state_dir +
                         "\"\ncapacity = " + std::to_string(options.capacity) +
                         "\nkill_grace = \"" + options.kill_grace + "\"\n" + options.agent_toml +
                         "[agent.labels]\n" + labels + "[controller]\nendpoint = \"" + endpoint +
                         "\"\npublic_key = \"" + controller_public_key_ + "\"\n" +
                         options.extra_toml);
    start_agent(name, toml);
}

void LocalCluster::start_agent(const std::string& id, const std::string& config_path) {
    fs::create_directories(dir_ + "/agents");
    agent_configs_[id] = config_path;
    agents_[id] =
        start_process({bin("hostline-agent"), "--config", config_path, "--log-level", log_level_},
                      dir_ + "/agents/" + id + ".log");
}

void LocalCluster::accept_agent_key(const std::string& name, const std::string& public_key) {
    write_file(controller_dir_ + "/agents/" + name + ".pub", public_key + "\n");
}

void LocalCluster::stop_agent(const std::string& name) {
    stop_pid(agents_[name], SIGTERM);
    agents_[name] = -1;
}

pid_t LocalCluster::agent_pid(const std::string& name) const {
    auto it = agents_.find(name);
    return it == agents_.end() ? -1 : it->second;
}

std::string LocalCluster::agent_log(const std::string& name) const {
    return read_file(dir_ + "/agents/" + name + ".log");
}

std::string LocalCluster::controller_log() const {
    return read_file(dir_ + "/controller.log");
}

void LocalCluster::wait_online(const std::vector<std::string>& names,
                               std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        nlohmann::json doc = cli_json({"agents"});
        std::size_t online = 0;
        for (const auto& name : names)
            for (const auto& a : doc.value("agents", nlohmann::json::array()))
                if (a.value("name", "") == name && a.value("online", false)) ++online;
        if (online == names.size()) return;
        std::this_thread::sleep_for(100ms);
    }
    fail_with("agents did not come online in time");
}

CommandResult LocalCluster::cli(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout) {
    std::vector<std::string> argv{bin("hostline"), "--controller", http_url_, "--token-file",
                                  controller_dir_ + "/admin.token"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, timeout);
}

nlohmann::json LocalCluster::cli_json(const std::vector<std::string>& args, int* exit_code) {
    std::vector<std::string> with_json = args;
    auto dashdash = std::find(with_json.begin(), with_json.end(), "--");
    with_json.insert(dashdash, "--json");
    CommandResult r = cli(with_json);
    if (exit_code) *exit_code = r.exit_code;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    if (doc.is_discarded()) fail_with("not JSON from hostline: " + r.out + "\nstderr: " + r.err);
    return doc;
}

nlohmann::json LocalCluster::try_cli_json(const std::vector<std::string>& args) {
    std::vector<std::string> with_json = args;
    with_json.insert(std::find(with_json.begin(), with_json.end(), "--"), "--json");
    CommandResult r = cli(with_json);
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || doc.is_discarded() || !doc.is_object()) return nlohmann::json::object();
    return doc;
}

pid_t LocalCluster::cli_background(const std::vector<std::string>& args,
                                   const std::string& log_path) {
    std::vector<std::string> argv{bin("hostline"), "--controller", http_url_, "--token-file",
                                  controller_dir_ + "/admin.token"};
    argv.insert(argv.end(), args.begin(), args.end());
    return start_process(argv, log_path);
}

void LocalCluster::kill_agent(const std::string& name) {
    auto it = agents_.find(name);
    if (it == agents_.end() || it->second <= 0) fail_with("no agent '" + name + "' is running");
    ::kill(it->second, SIGKILL);
    int status;
    ::waitpid(it->second, &status, 0);
    it->second = -1;
}

void LocalCluster::restart_agent(const std::string& name) {
    auto config = agent_configs_.find(name);
    if (config == agent_configs_.end()) fail_with("no agent '" + name + "' was started");
    auto running = agents_.find(name);
    if (running != agents_.end() && running->second > 0 && process_alive(running->second))
        fail_with("agent '" + name + "' is still running");
    start_agent(name, config->second);
}

bool LocalCluster::controller_alive() const {
    return controller_pid_ > 0 && process_alive(controller_pid_);
}

bool LocalCluster::agent_alive(const std::string& name) const {
    auto it = agents_.find(name);
    return it != agents_.end() && it->second > 0 && process_alive(it->second);
}

nlohmann::json LocalCluster::post_api(const std::string& path, const nlohmann::json& body) {
    const std::string response =
        http_exchange(http_url_, "POST", path, admin_token(token_file()), body.dump());
    const auto head_end = response.find("\r\n\r\n");
    const auto space = response.find(' ');
    if (head_end == std::string::npos || space == std::string::npos)
        fail_with("no HTTP answer from " + http_url_ + " to POST " + path);
    const int status = std::atoi(response.c_str() + space + 1);
    auto doc = nlohmann::json::parse(response.substr(head_end + 4), nullptr, false);
    if (status < 200 || status > 299 || doc.is_discarded())
        fail_with("POST " + path + " answered " + response.substr(0, response.find("\r\n")) + ": " +
                  response.substr(head_end + 4));
    return doc;
}

ApiAnswer LocalCluster::api(const std::string& method, const std::string& path,
                            const std::string& token, const std::string& body,
                            const HttpHeaders& headers) {
    const std::string response = http_exchange(http_url_, method, path, token, body, headers);
    const auto head_end = response.find("\r\n\r\n");
    const auto space = response.find(' ');
    if (head_end == std::string::npos || space == std::string::npos)
        fail_with("no HTTP answer from " + http_url_ + " to " + method + " " + path);
    return ApiAnswer{std::atoi(response.c_str() + space + 1), response.substr(0, head_end),
                     response.substr(head_end + 4)};
}

}  // namespace hostline::testing
