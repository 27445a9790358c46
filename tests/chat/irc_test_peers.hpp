// The other ends of the IRC adapter's tests: a real ngircd started on a free loopback port,
// a blocking IRC "user" client speaking raw lines, and a one-thread fake server for
// dialogues ngircd cannot have (SASL). Test code only: failures are reported with gtest's
// ADD_FAILURE and empty results, never by throwing.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/local_cluster.hpp"

namespace hostline::chat::irc::test_peers {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline std::uint16_t free_loopback_port() {
    return static_cast<std::uint16_t>(hostline::testing::free_tcp_port());
}

inline int connect_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads CRLF lines from a socket with a deadline.
class LineReader {
  public:
    explicit LineReader(int fd) : fd_(fd) {}
    // The next line without its CRLF, or nothing at the deadline or on EOF.
    std::optional<std::string> next(Clock::time_point deadline) {
        for (;;) {
            auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return line;
            }
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || closed_) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                closed_ = true;
                continue;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }
    bool closed() const { return closed_; }

  private:
    int fd_;
    std::string buffer_;
    bool closed_ = false;
};

inline std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

// ngircd in the foreground with a config derived from
// shared/fixtures/chat/irc/ngircd-loopback.conf: plain TCP on a free port, and with
// enable_tls() TLS on another, with a fresh self-signed certificate for IP 127.0.0.1.
class Ngircd {
  public:
    Ngircd() : port_(free_loopback_port()) {
        char pattern[] = "/tmp/hostline-ngircd-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        std::filesystem::create_directories(dir_ + "/conf.d");
        // ngircd started as root drops to nobody, which must be able to write its PID file.
        ::chmod(dir_.c_str(), 0777);
    }

    // Call before start(). The certificate is its own CA: pass cert_file() as ca_file.
    bool enable_tls() {
        const std::string command =
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + dir_ + "/server.key -out " +
            dir_ + "/server.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 " +
            ">/dev/null 2>&1";
        if (std::system(command.c_str()) != 0) {
            ADD_FAILURE() << "openssl could not make a certificate";
            return false;
        }
        ::chmod((dir_ + "/server.key").c_str(), 0644);  // ngircd reads it as nobody
        tls_port_ = free_loopback_port();
        return true;
    }
    std::string cert_file() const { return dir_ + "/server.crt"; }
    std::uint16_t tls_port() const { return tls_port_; }
    ~Ngircd() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    static bool installed() { return ::access("/usr/sbin/ngircd", X_OK) == 0; }

    // Starts ngircd and waits until it says it listens on its ports. A free port can be taken
    // by another test between choosing it and ngircd binding it; ngircd then exits, and is
    // started again on other ports. (Something accepting on the port proves nothing: it may be
    // the other test's server.)
    bool start() {
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (attempt > 0) {
                port_ = free_loopback_port();
                if (tls_port_) tls_port_ = free_loopback_port();
            }
            switch (start_once()) {
                case Started::yes:
                    return true;
                case Started::port_taken:
                    continue;
                case Started::no:
                    return false;
            }
        }
        ADD_FAILURE() << "ngircd found its ports taken five times";
        return false;
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    std::uint16_t port() const { return port_; }

  private:
    enum class Started { yes, port_taken, no };

    void write_conf() const {
        std::ofstream conf(dir_ + "/ngircd.conf");
        conf << "[Global]\n\tName = irc.test.local\n\tInfo = loopback test server\n"
                "\tAdminInfo1 = test\n\tAdminInfo2 = test\n\tAdminEMail = test@localhost\n"
                "\tListen = 127.0.0.1\n\tPorts = "
             << port_ << "\n\tMotdPhrase = \"test server\"\n\tPidFile = " << dir_
             << "/ngircd.pid\n[Limits]\n\tMaxConnectionsIP = 0\n\tPingTimeout = 120\n"
                "\tPongTimeout = 20\n[Options]\n\tDNS = no\n\tIdent = no\n\tPAM = no\n"
                "\tIncludeDir = "
             << dir_ << "/conf.d\n";
        if (tls_port_)
            conf << "[SSL]\n\tCertFile = " << dir_ << "/server.crt\n\tKeyFile = " << dir_
                 << "/server.key\n\tPorts = " << tls_port_ << "\n";
    }

    Started start_once() {
        write_conf();
        const std::string conf = dir_ + "/ngircd.conf";
        const std::string log = dir_ + "/ngircd.log";
        std::filesystem::remove(log);
        pid_ = ::fork();
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            ::execl("/usr/sbin/ngircd", "ngircd", "-n", "-f", conf.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        const auto listening = [](const std::string& text, std::uint16_t port) {
            return text.find("Now listening on [127.0.0.1]:" + std::to_string(port) + " ") !=
                   std::string::npos;
        };
        const auto deadline = Clock::now() + 10s;
        while (Clock::now() < deadline) {
            std::ifstream in(log);
            const std::string text{std::istreambuf_iterator<char>(in), {}};
            if (listening(text, port_) && (tls_port_ == 0 || listening(text, tls_port_)))
                return Started::yes;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                std::ifstream again(log);
                const std::string last{std::istreambuf_iterator<char>(again), {}};
                if (last.find("Address already in use") != std::string::npos)
                    return Started::port_taken;
                ADD_FAILURE() << "ngircd exited at start:\n" << last;
                return Started::no;
            }
            std::this_thread::sleep_for(20ms);
        }
        ADD_FAILURE() << "ngircd did not listen on port " << port_;
        return Started::no;
    }
    std::uint16_t port_;
    std::uint16_t tls_port_ = 0;
    std::string dir_;
    pid_t pid_ = -1;
};

// A person on IRC: a blocking client that answers PING by itself.
class IrcUser {
  public:
    IrcUser(std::uint16_t port, std::string nick)
        : nick_(std::move(nick)), fd_(connect_loopback(port)), reader_(fd_) {}
    ~IrcUser() {
        if (fd_ >= 0) ::close(fd_);
    }

    // Registers and waits for the welcome.
    bool log_in() {
        send("NICK " + nick_);
        send("USER " + nick_ + " 0 * :test user");
        return wait_for(
                   [](const std::vector<std::string>& w) { return w.size() >= 2 && w[1] == "001"; })
            .has_value();
    }

    void send(const std::string& line) {
        const std::string out = line + "\r\n";
        ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
    }

    // The first line (raw) for which `match` holds on its words, skipping others.
    std::optional<std::string> wait_for(
        const std::function<bool(const std::vector<std::string>&)>& match,
        Clock::duration timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        while (auto line = next_line(deadline))
            if (match(words_of(*line))) return line;
        return std::nullopt;
    }

    struct Privmsg {
        std::string from;  // nick
        std::string to;    // channel or nick
        std::string text;
    };

    // The next message from `from` to `to` containing `part`, in the order they arrived:
    // messages read while waiting for something else are not lost, and each is returned at
    // most once. Messages skipped on the way stay in messages(). `from` matches its nick with
    // '_' added too: a bot that reconnects before the server has let its old connection go
    // gets "hostline_" until the old one times out, and it is still the same bot.
    std::optional<std::string> wait_for_message(const std::string& from, const std::string& to,
                                                const std::string& part,
                                                Clock::duration timeout = 10s) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            for (; unread_ < messages_.size(); ++unread_) {
                const Privmsg& m = messages_[unread_];
                if (same_speaker(m.from, from) && m.to == to &&
                    m.text.find(part) != std::string::npos)
                    return messages_[unread_++].text;
            }
            if (!next_line(deadline)) return std::nullopt;
        }
    }
    // Reads (and keeps) whatever arrives until the deadline.
    void drain_for(Clock::duration how_long) {
        const auto deadline = Clock::now() + how_long;
        while (next_line(deadline)) {
        }
    }
    const std::vector<Privmsg>& messages() const { return messages_; }

    // Joins and waits for the server's echo.
    bool join(const std::string& channel) {
        send("JOIN " + channel);
        return wait_for([&](const std::vector<std::string>& w) {
                   return w.size() >= 3 && w[1] == "JOIN" && w[0].rfind(":" + nick_ + "!", 0) == 0;
               })
            .has_value();
    }

    // Waits until `nick` is in `channel`: its JOIN, or a NAMES reply listing it.
    bool see_join(const std::string& nick, const std::string& channel,
                  Clock::duration timeout = 10s) {
        return wait_for(
                   [&](const std::vector<std::string>& w) {
                       if (w.size() >= 3 && w[1] == "JOIN" && w[0].rfind(":" + nick + "!", 0) == 0)
                           return (w[2] == channel || w[2] == ":" + channel);
                       if (w.size() >= 6 && w[1] == "353" && w[4] == channel) {
                           for (std::size_t i = 5; i < w.size(); ++i) {
                               std::string n = w[i];
                               while (!n.empty() &&
                                      std::string(":@+%&~").find(n[0]) != std::string::npos)
                                   n.erase(0, 1);
                               if (n == nick) return true;
                           }
                       }
                       return false;
                   },
                   timeout)
            .has_value();
    }

  private:
    static bool same_speaker(const std::string& nick, const std::string& wanted) {
        return nick.rfind(wanted, 0) == 0 &&
               nick.find_first_not_of('_', wanted.size()) == std::string::npos;
    }

    // The next line, with PINGs answered and PRIVMSGs recorded.
    std::optional<std::string> next_line(Clock::time_point deadline) {
        auto line = reader_.next(deadline);
        if (!line) return line;
        lines_.push_back(*line);
        auto words = words_of(*line);
        if (!words.empty() && words[0] == "PING") send("PONG " + line->substr(5));
        if (words.size() >= 3 && words[1] == "PRIVMSG" && words[0].size() > 1) {
            std::string nick = words[0].substr(1, words[0].find('!') - 1);
            auto text_at = line->find(" :", 1);
            messages_.push_back(
                {nick, words[2], text_at == std::string::npos ? "" : line->substr(text_at + 2)});
        }
        return line;
    }

    std::string nick_;
    int fd_;
    LineReader reader_;
    std::vector<std::string> lines_;
    std::vector<Privmsg> messages_;
    std::size_t unread_ = 0;
};

// A scripted IRC server on a free port, one connection at a time, in its own thread.
// `respond` gets each line the client sends and returns the lines to answer with.
class FakeIrcServer {
  public:
    using Respond = std::function<std::vector<std::string>(const std::string& line)>;

    explicit FakeIrcServer(Respond respond) : respond_(std::move(respond)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(listen_fd_, 8);
        socklen_t len = sizeof addr;
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeIrcServer() {
        stopping_ = true;
        thread_.join();
        ::close(listen_fd_);
    }

    std::uint16_t port() const { return port_; }
    int connections() const { return connections_; }
    std::vector<std::string> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    // Sends a line to the current connection (from the test thread).
    void push(const std::string& line) {
        std::lock_guard lock(mutex_);
        pushed_.push_back(line);
    }
    // Closes the current connection, as a server going down does; the next one is served.
    void drop() { dropping_ = true; }

  private:
    void run() {
        while (!stopping_) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            ++connections_;
            serve(fd);
            ::close(fd);
        }
    }

    void serve(int fd) {
        LineReader reader(fd);
        dropping_ = false;
        while (!stopping_ && !dropping_ && !reader.closed()) {
            std::vector<std::string> out;
            {
                std::lock_guard lock(mutex_);
                out.swap(pushed_);
            }
            if (auto line = reader.next(Clock::now() + 20ms)) {
                {
                    std::lock_guard lock(mutex_);
                    received_.push_back(*line);
                }
                for (auto& reply : respond_(*line)) out.push_back(reply);
            }
            for (const auto& reply : out) {
                const std::string bytes = reply + "\r\n";
                ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            }
        }
    }

    Respond respond_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> dropping_{false};
    std::atomic<int> connections_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> received_;
    std::vector<std::string> pushed_;
    std::thread thread_;
};

}  // namespace hostline::chat::irc::test_peers
