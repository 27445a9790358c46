#include "cli/dev_command.hpp"

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/api_client.hpp"
#include "cli/terminal_chat.hpp"
#include "common/process/spawn_with_log.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::cli {
namespace {

namespace fs = std::filesystem;

struct Child {
    std::string name;
    pid_t pid = -1;
    std::string log;
};

std::string self_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? "." : exe.parent_path().string();
}

Result<void> write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    if (!(out << text)) return fail("cannot write " + path + ": " + std::strerror(errno));
    return {};
}

// The endpoints file the controller writes once it listens: key=value lines.
std::map<std::string, std::string> read_endpoints(const std::string& path) {
    std::map<std::string, std::string> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

void stop_all(std::vector<Child>& children) {
    for (auto it = children.rbegin(); it != children.rend(); ++it)
        if (it->pid > 0) ::kill(it->pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (Child& c : children) {
        while (c.pid > 0) {
            int status = 0;
            pid_t r = ::waitpid(c.pid, &status, WNOHANG);
            if (r == c.pid || (r < 0 && errno == ECHILD)) {
                c.pid = -1;
                break;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                std::fprintf(stderr, "hostline dev: %s did not stop in time; killing it\n",
                             c.name.c_str());
                ::kill(c.pid, SIGKILL);
                ::waitpid(c.pid, &status, 0);
                c.pid = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

// The local user the terminal chat speaks as: local:$USER (an admin in dev mode).
std::string local_identity() {
    std::string name;
    if (const passwd* pw = ::getpwuid(::geteuid())) name = pw->pw_name;
    std::string clean;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')
            clean += c;
    return "local:" + (clean.empty() ? std::string("user") : clean);
}

// Waits (up to 30 s) until every agent has said hello, so piped commands find them.
void wait_for_agents(ApiClient& api, int count) {
    for (int i = 0; i < 300; ++i) {
        auto agents = api.get("/api/v1/agents");
        if (agents) {
            int online = 0;
            for (const auto& a : (*agents)["agents"]) online += a.value("online", false) ? 1 : 0;
            if (online >= count) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::fprintf(stderr, "hostline dev: not every agent came online within 30 s; see the logs\n");
}

std::string describe_exit(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
    return "stopped";
}

Result<void> ensure_dir(const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return fail("cannot create " + path + ": " + ec.message());
    return {};
}

// Why the terminal chat stopped.
enum class ChatEnd { input_ended, signal, child_died };

// Reads the pending signals: SIGINT or SIGTERM, or a child that died (said on stderr), say
// stop; SIGCHLD for anything else does not.
std::optional<ChatEnd> on_signals(int signal_fd, std::vector<Child>& children) {
    std::optional<ChatEnd> end;
    signalfd_siginfo info{};
    while (::read(signal_fd, &info, sizeof info) == sizeof info)
        if (info.ssi_signo != SIGCHLD) end = ChatEnd::signal;
    for (Child& c : children) {
        int st = 0;
        if (c.pid > 0 && ::waitpid(c.pid, &st, WNOHANG) == c.pid) {
            std::fprintf(stderr, "hostline dev: %s %s; see %s\n", c.name.c_str(),
                         describe_exit(st).c_str(), c.log.c_str());
            c.pid = -1;
            end = ChatEnd::child_died;
        }
    }
    return end;
}

// Feeds stdin to the chat until input has ended and every conversation has ended, or until
// a signal or a dead child says stop. Input is not read while lines wait to be sent.
ChatEnd run_chat(TerminalChat& chat, int signal_fd, std::vector<Child>& children) {
    bool input_open = true;
    while (input_open || !chat.done()) {
        const bool read_input = input_open && chat.wants_input();
        pollfd fds[3] = {{signal_fd, POLLIN, 0},
                         {chat.wake_fd(), POLLIN, 0},
                         {read_input ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) continue;
        if (fds[0].revents & POLLIN)
            if (auto end = on_signals(signal_fd, children)) return *end;
        if (fds[1].revents & POLLIN) chat.on_wake();
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
            char buf[4096];
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                chat.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            } else if (n == 0 || errno != EINTR) {
                // End of input: the conversations still running are waited for, then dev stops.
                chat.finish();
                input_open = false;
            }
        }
    }
    return ChatEnd::input_ended;
}

int run_dev(int agent_count, std::string data, std::string catalog) {
    std::error_code ec;
    data = fs::absolute(data, ec).lexically_normal().string();
    if (!data.empty() && data.back() == '/') data.pop_back();
    const std::string bin = self_dir();
    const std::string controller_dir = data + "/controller";
    const std::string logs = data + "/logs";
    for (const std::string& d :
         {data, controller_dir, controller_dir + "/agents", logs, data + "/agents"})
        if (auto r = ensure_dir(d); !r) {
            std::fprintf(stderr, "hostline dev: %s\n", r.error().message.c_str());
            return 1;
        }
    ::chmod(controller_dir.c_str(), 0700);

    // Signals are taken synchronously below; block them before any child exists.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGCHLD);
    sigprocmask(SIG_BLOCK, &signals, nullptr);

    auto controller_keys =
        transport::load_or_create_key_pair(controller_dir + "/keys", "controller");
    if (!controller_keys) {
        std::fprintf(stderr, "hostline dev: %s\n", controller_keys.error().message.c_str());
        return 1;
    }
    std::string catalog_line;
    if (!catalog.empty()) {
        catalog = fs::absolute(catalog, ec).lexically_normal().string();
        catalog_line = "\n[catalog]\ndir = \"" + catalog + "\"\n";
    }
    // The policy makes the one local user an admin, so the terminal chat may run everything.
    const std::string policy_toml = data + "/policy.toml";
    if (auto policy = write_text(policy_toml, "# Written by `hostline dev`: " + local_identity() +
                                                  " may do everything.\n"
                                                  "[groups.dev]\n"
                                                  "members = [\"" +
                                                  local_identity() +
                                                  "\"]\n"
                                                  "roles = [\"admin\"]\n");
        !policy) {
        std::fprintf(stderr, "hostline dev: %s\n", policy.error().message.c_str());
        return 1;
    }
    const std::string controller_toml = data + "/controller.toml";
    auto written = write_text(controller_toml,
                              "# Written by `hostline dev`.\n"
                              "[controller]\n"
                              "data_dir = \"" +
                                  controller_dir +
                                  "\"\n"
                                  "agent_listen = \"tcp://127.0.0.1:*\"\n"
                                  "heartbeat = \"2s\"\n"
                                  "agent_grace = \"30s\"\n"
                                  "policy_file = \"" +
                                  policy_toml +
                                  "\"\n\n"
                                  "[http]\n"
                                  "address = \"127.0.0.1\"\n"
                                  "port = 0\n" +
                                  catalog_line);
    if (!written) {
        std::fprintf(stderr, "hostline dev: %s\n", written.error().message.c_str());
        return 1;
    }
    std::vector<Child> children;
    const std::string endpoints_path = controller_dir + "/endpoints";
    fs::remove(endpoints_path, ec);
    Child controller{"controller", -1, logs + "/controller.log"};
    auto pid = process::spawn_with_log({bin + "/hostline-controller", "--config", controller_toml},
                                       controller.log);
    if (!pid) {
        std::fprintf(stderr, "hostline dev: %s\n", pid.error().message.c_str());
        return 1;
    }
    controller.pid = *pid;
    children.push_back(controller);

    std::map<std::string, std::string> endpoints;
    for (int i = 0; i < 200 && (endpoints.count("agent") == 0 || endpoints.count("http") == 0);
         ++i) {
        int status = 0;
        if (::waitpid(controller.pid, &status, WNOHANG) == controller.pid) {
            std::fprintf(stderr, "hostline dev: the controller %s; see %s\n",
                         describe_exit(status).c_str(), controller.log.c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        endpoints = read_endpoints(endpoints_path);
    }
    if (endpoints.count("agent") == 0 || endpoints.count("http") == 0) {
        std::fprintf(stderr, "hostline dev: the controller did not start listening; see %s\n",
                     controller.log.c_str());
        stop_all(children);
        return 1;
    }

    static const char* kRoles[] = {"web", "db"};
    for (int i = 1; i <= agent_count; ++i) {
        std::string name = "local-" + std::to_string(i);
        std::string state_dir = data + "/agents/" + name;
        auto keys = transport::load_or_create_key_pair(state_dir, "agent");
        if (!keys) {
            std::fprintf(stderr, "hostline dev: %s\n", keys.error().message.c_str());
            stop_all(children);
            return 1;
        }
        // Accepting an agent is putting its public key in the controller's agents dir.
        (void)transport::write_file_atomically(controller_dir + "/agents/" + name + ".pub",
                                               keys->public_key + "\n", 0644);
        std::string toml = state_dir + ".toml";
        auto w = write_text(
            toml, "# Written by `hostline dev`.\n[agent]\nname = \"" + name + "\"\nstate_dir = \"" +
                      state_dir + "\"\ncapacity = 4\n\n[agent.labels]\nrole = \"" +
                      kRoles[(i - 1) % 2] + "\"\nenv = \"dev\"\n\n[controller]\nendpoint = \"" +
                      endpoints["agent"] + "\"\npublic_key = \"" + controller_keys->public_key +
                      "\"\n");
        if (!w) {
            std::fprintf(stderr, "hostline dev: %s\n", w.error().message.c_str());
            stop_all(children);
            return 1;
        }
        Child agent{name, -1, logs + "/" + name + ".log"};
        auto apid = process::spawn_with_log({bin + "/hostline-agent", "--config", toml}, agent.log);
        if (!apid) {
            std::fprintf(stderr, "hostline dev: %s\n", apid.error().message.c_str());
            stop_all(children);
            return 1;
        }
        agent.pid = *apid;
        children.push_back(agent);
    }

    const std::string env_path = data + "/env";
    // Sourcing it points the CLI at this controller and puts this `hostline` first on PATH.
    (void)write_text(env_path, "export HOSTLINE_CONTROLLER=" + endpoints["http"] +
                                   "\nexport HOSTLINE_TOKEN_FILE=" + controller_dir +
                                   "/admin.token\nexport PATH=\"" + bin + ":$PATH\"\n");
    std::printf(
        "Hostline dev is running: a controller and %d agent(s) (local-1 ... local-%d).\n\n"
        "  controller   %s (agents connect to %s)\n"
        "  web UI       %s/ui/ (log in with the token in %s/admin.token)\n"
        "  data         %s\n"
        "  logs         %s/\n"
        "  agents       local-N, labels role=web (odd N) or role=db (even N), env=dev\n\n"
        "In another shell:\n"
        "  . %s\n"
        "  hostline agents\n"
        "  hostline run --on 'local-*' -- uname -a\n"
        "  hostline run --on role=web -- sh -c 'echo hello from $(hostname)'\n"
        "  hostline jobs\n\n"
        "Press Ctrl-C to stop everything.\n",
        agent_count, agent_count, endpoints["http"].c_str(), endpoints["agent"].c_str(),
        endpoints["http"].c_str(), controller_dir.c_str(), data.c_str(), logs.c_str(),
        env_path.c_str());
    std::fflush(stdout);

    int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    auto url = parse_controller_url(endpoints["http"]);
    std::ifstream token_in(controller_dir + "/admin.token");
    ApiToken token{"", controller_dir + "/admin.token"};
    std::getline(token_in, token.value);
    ApiClient api(*url, token);
    wait_for_agents(api, agent_count);

    // The terminal chat: what is typed (or piped) goes to the chat service as this user.
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    auto chat = TerminalChat::create(*url, token, local_identity(), interactive);
    if (!chat) {
        std::fprintf(stderr, "hostline dev: %s\n", chat.error().message.c_str());
        ::close(signal_fd);
        stop_all(children);
        return 1;
    }
    if (interactive)
        std::printf("\nChat with Hostline here (try !help); Ctrl-D or Ctrl-C stops everything.\n");
    (*chat)->prompt();

    const ChatEnd end = run_chat(**chat, signal_fd, children);
    // Streams still running (a signal, a dead child) end now, before what they talk to.
    (*chat)->interrupt();
    if (end == ChatEnd::signal) std::printf("\nstopping...\n");
    ::close(signal_fd);
    stop_all(children);
    std::printf("stopped. Job history is kept in %s\n", controller_dir.c_str());
    return end == ChatEnd::child_died ? 1 : 0;
}

}  // namespace

void add_dev_command(CLI::App& app) {
    auto* dev = app.add_subcommand(
        "dev", "Start a local controller and N local agents for trying Hostline on one machine");
    auto agents = std::make_shared<int>(2);
    auto data = std::make_shared<std::string>(".hostline-dev");
    dev->add_option("--agents", *agents, "How many local agents to start")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    dev->add_option("--data", *data, "Directory for configs, keys, the database and logs")
        ->capture_default_str();
    // From the repository's root (as `make run` is) the example catalog is used.
    auto catalog = std::make_shared<std::string>(
        fs::is_directory("examples/commands.d") ? "examples/commands.d" : "");
    dev->add_option("--catalog", *catalog, "Directory of catalog commands (commands.d)")
        ->capture_default_str();
    dev->callback([agents, data, catalog] { std::exit(run_dev(*agents, *data, *catalog)); });
}

}  // namespace hostline::cli
