#include "testing/blackhole_proxy.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <stdexcept>
#include <string>
#include <vector>

namespace hostline::testing {
namespace {

// Per direction: stop reading from a peer while this much waits for the other one, so a
// slow reader slows its writer instead of growing the buffer.
constexpr std::size_t kMaxBuffered = 256 * 1024;

[[noreturn]] void fail_with(const std::string& what) {
    throw std::runtime_error("blackhole proxy: " + what + ": " + std::strerror(errno));
}

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

// The proxy thread: owns the listener and every connection; nothing else touches them.
class BlackholeProxy::Loop {
  public:
    Loop(BlackholeProxy& proxy, int listen_fd, int target_port)
        : proxy_(proxy), listen_fd_(listen_fd), target_port_(target_port) {}

    ~Loop() {
        for (Link& link : links_) close_link(link);
        close_fd(listen_fd_);
    }

    void run() {
        std::vector<pollfd> fds;
        std::vector<std::pair<Link*, bool>> owners;  // per fd after the first two: link, client?
        while (true) {
            fds.clear();
            owners.clear();
            fds.push_back({proxy_.wake_fd_, POLLIN, 0});
            fds.push_back({listen_fd_, POLLIN, 0});
            for (Link& link : links_) {
                add_side(fds, owners, link, true);
                add_side(fds, owners, link, false);
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                return;  // cannot happen with valid fds; the destructor still cleans up
            }
            if (fds[0].revents & POLLIN) {
                std::uint64_t value;
                (void)!::read(proxy_.wake_fd_, &value, sizeof value);
                if (!apply_mode()) return;
            }
            if (fds[1].revents & POLLIN) accept_one();
            for (std::size_t i = 2; i < fds.size(); ++i)
                if (fds[i].revents != 0)
                    on_ready(*owners[i - 2].first, owners[i - 2].second, fds[i].revents);
            links_.remove_if([](const Link& link) { return link.client < 0 && link.upstream < 0; });
        }
    }

  private:
    struct Link {
        int client = -1;
        int upstream = -1;
        std::string to_upstream;  // read from the client, not yet written onward
        std::string to_client;
        bool client_eof = false;  // the client will send nothing more
        bool upstream_eof = false;
        bool blackholed = false;
    };

    void add_side(std::vector<pollfd>& fds, std::vector<std::pair<Link*, bool>>& owners, Link& link,
                  bool client_side) {
        const int fd = client_side ? link.client : link.upstream;
        if (fd < 0) return;
        short events = 0;
        if (link.blackholed) {
            events = POLLIN;  // read and discard, so the peer never blocks on a full window
        } else {
            const bool eof = client_side ? link.client_eof : link.upstream_eof;
            const std::string& inbound = client_side ? link.to_upstream : link.to_client;
            const std::string& outbound = client_side ? link.to_client : link.to_upstream;
            if (!eof && inbound.size() < kMaxBuffered) events |= POLLIN;
            if (!outbound.empty()) events |= POLLOUT;
        }
        // Nothing asked: leave it out, or a hang-up reported regardless would spin the loop.
        if (events == 0) return;
        fds.push_back({fd, events, 0});
        owners.emplace_back(&link, client_side);
    }

    // False when the proxy is stopping.
    bool apply_mode() {
        std::lock_guard lock(proxy_.mutex_);
        if (proxy_.stopping_) return false;
        if (proxy_.want_partitioned_ != proxy_.applied_partitioned_) {
            partitioned_ = proxy_.want_partitioned_;
            for (Link& link : links_) {
                if (partitioned_) {
                    proxy_.dropped_ += link.to_upstream.size() + link.to_client.size();
                    link.to_upstream.clear();
                    link.to_client.clear();
                    link.blackholed = true;
                } else if (link.blackholed) {
                    close_link(link);
                }
            }
            proxy_.applied_partitioned_ = partitioned_;
            proxy_.applied_cv_.notify_all();
        }
        return true;
    }

    void accept_one() {
        const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) return;
        ++proxy_.connections_;
        Link link;
        link.client = client;
        if (partitioned_) {
            link.blackholed = true;
        } else {
            // Loopback: connect answers at once, so blocking here costs nothing.
            link.upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const sockaddr_in target = loopback(target_port_);
            if (link.upstream < 0 ||
                ::connect(link.upstream, reinterpret_cast<const sockaddr*>(&target),
                          sizeof target) != 0) {
                close_link(link);
                return;
            }
            ::fcntl(link.upstream, F_SETFL, ::fcntl(link.upstream, F_GETFL) | O_NONBLOCK);
        }
        links_.push_back(std::move(link));
    }

    void on_ready(Link& link, bool client_side, short revents) {
        int& fd = client_side ? link.client : link.upstream;
        if (fd < 0) return;  // closed earlier in this round
        char buffer[65536];
        if (link.blackholed) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n > 0) {
                proxy_.dropped_ += static_cast<std::uint64_t>(n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                close_fd(fd);  // that peer gave up; the other still hears nothing
            }
            return;
        }
        std::string& inbound = client_side ? link.to_upstream : link.to_client;
        std::string& outbound = client_side ? link.to_client : link.to_upstream;
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n > 0) {
                inbound.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0) {
                (client_side ? link.client_eof : link.upstream_eof) = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return close_link(link);  // a reset: pass it on by closing both
            }
        }
        if ((revents & POLLOUT) && !outbound.empty()) {
            const ssize_t n = ::send(fd, outbound.data(), outbound.size(), MSG_NOSIGNAL);
            if (n > 0) {
                proxy_.forwarded_ += static_cast<std::uint64_t>(n);
                outbound.erase(0, static_cast<std::size_t>(n));
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return close_link(link);
            }
        }
        pass_on_eof(link);
    }

    // A side that ended has its end passed on once what it sent has been written; a link
    // whose both sides ended is closed.
    void pass_on_eof(Link& link) {
        if (link.client_eof && link.to_upstream.empty() && link.upstream >= 0)
            ::shutdown(link.upstream, SHUT_WR);
        if (link.upstream_eof && link.to_client.empty() && link.client >= 0)
            ::shutdown(link.client, SHUT_WR);
        if (link.client_eof && link.upstream_eof && link.to_upstream.empty() &&
            link.to_client.empty())
            close_link(link);
    }

    void close_link(Link& link) {
        close_fd(link.client);
        close_fd(link.upstream);
    }

    BlackholeProxy& proxy_;
    int listen_fd_;
    const int target_port_;
    bool partitioned_ = false;
    std::list<Link> links_;  // a list: owners_ keep pointers across push_back
};

BlackholeProxy::BlackholeProxy(int target_port) {
    const int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) fail_with("socket");
    sockaddr_in addr = loopback(0);
    socklen_t length = sizeof addr;
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd, 64) != 0 ||
        ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        ::close(listen_fd);
        fail_with("listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        ::close(listen_fd);
        fail_with("eventfd");
    }
    thread_ =
        std::thread([this, listen_fd, target_port] { Loop(*this, listen_fd, target_port).run(); });
}

BlackholeProxy::~BlackholeProxy() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
}

void BlackholeProxy::partition() {
    change_mode(true);
}

void BlackholeProxy::heal() {
    change_mode(false);
}

void BlackholeProxy::change_mode(bool partitioned) {
    std::unique_lock lock(mutex_);
    want_partitioned_ = partitioned;
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    applied_cv_.wait(lock, [&] { return applied_partitioned_ == partitioned; });
}

BlackholeProxy::Counts BlackholeProxy::counts() const {
    return {forwarded_.load(), dropped_.load(), connections_.load()};
}

}  // namespace hostline::testing
