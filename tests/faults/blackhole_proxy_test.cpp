// The proxy the partition scenario relies on: it forwards both ways, goes silent without
// closing anything when partitioned (for old and new connections alike), and after healing
// closes what it blackholed and forwards new connections again.
#include "testing/blackhole_proxy.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

namespace hostline::testing {
namespace {

// A socket that closes itself.
class Socket {
  public:
    explicit Socket(int fd = -1) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    Socket& operator=(Socket&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    int fd() const { return fd_; }

  private:
    int fd_;
};

sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
}

// A listening socket on a free loopback port; sets port.
Socket listen_on_free_port(int& port) {
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr = loopback(0);
    socklen_t length = sizeof addr;
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(s.fd(), 16) != 0 ||
        ::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &length) != 0)
        ADD_FAILURE() << "cannot listen on 127.0.0.1";
    port = ntohs(addr.sin_port);
    return s;
}

Socket connect_to(int port) {
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_in addr = loopback(port);
    if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        ADD_FAILURE() << "cannot connect to port " << port;
    return s;
}

bool readable_within(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

Socket accept_within(int listen_fd, int timeout_ms) {
    if (!readable_within(listen_fd, timeout_ms)) return Socket();
    return Socket(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
}

void send_text(int fd, const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
}

// Reads until size bytes arrived, the peer closed (then "<closed>" is appended) or
// timeout_ms passed without anything arriving.
std::string receive(int fd, std::size_t size, int timeout_ms = 5000) {
    std::string got;
    char buffer[4096];
    while (got.size() < size && readable_within(fd, timeout_ms)) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) return got + "<closed>";
        got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
}

// Silence is only provable by waiting; nothing in flight takes this long on loopback.
constexpr int kSilenceMs = 300;

// The proxy counts a byte after its send returns, which may be after the peer has it: wait
// (bounded) for the count rather than read it once.
template <typename Field>
std::uint64_t settled_count(const BlackholeProxy& proxy, Field field, std::uint64_t expected) {
    std::uint64_t count = 0;
    for (int i = 0; i < 500; ++i) {
        count = proxy.counts().*field;
        if (count >= expected) break;
        ::usleep(10000);
    }
    return count;
}

TEST(BlackholeProxy, ForwardsBothWaysAndCountsTheBytes) {
    int server_port = 0;
    Socket server = listen_on_free_port(server_port);
    BlackholeProxy proxy(server_port);
    Socket client = connect_to(proxy.port());
    Socket upstream = accept_within(server.fd(), 5000);
    ASSERT_GE(upstream.fd(), 0) << "the proxy did not connect onward";

    send_text(client.fd(), "ping");
    EXPECT_EQ(receive(upstream.fd(), 4), "ping");
    send_text(upstream.fd(), "pong!");
    EXPECT_EQ(receive(client.fd(), 5), "pong!");
    EXPECT_EQ(settled_count(proxy, &BlackholeProxy::Counts::forwarded_bytes, 9), 9u);
    EXPECT_EQ(proxy.counts().dropped_bytes, 0u);
    EXPECT_EQ(proxy.counts().connections, 1u);

    ::shutdown(client.fd(), SHUT_WR);  // a close passes through as a close
    EXPECT_EQ(receive(upstream.fd(), 1), "<closed>");
}

TEST(BlackholeProxy, PartitionSilencesOldAndNewConnectionsWithoutClosingThem) {
    int server_port = 0;
    Socket server = listen_on_free_port(server_port);
    BlackholeProxy proxy(server_port);
    Socket client = connect_to(proxy.port());
    Socket upstream = accept_within(server.fd(), 5000);
    ASSERT_GE(upstream.fd(), 0);

    proxy.partition();
    send_text(client.fd(), "lost one way");
    send_text(upstream.fd(), "lost the other");
    EXPECT_FALSE(readable_within(upstream.fd(), kSilenceMs)) << "data or a close crossed";
    EXPECT_FALSE(readable_within(client.fd(), kSilenceMs)) << "data or a close crossed";

    // A new connection is accepted (the client cannot tell) and goes nowhere.
    Socket late = connect_to(proxy.port());
    send_text(late.fd(), "hello?");
    EXPECT_FALSE(readable_within(server.fd(), kSilenceMs)) << "connected onward while partitioned";
    EXPECT_FALSE(readable_within(late.fd(), kSilenceMs));
    EXPECT_EQ(proxy.counts().forwarded_bytes, 0u);
    // Read and thrown away, so the peers never block on a full window.
    EXPECT_EQ(settled_count(proxy, &BlackholeProxy::Counts::dropped_bytes, 32), 12u + 14u + 6u);
}

TEST(BlackholeProxy, HealClosesWhatWasBlackholedAndForwardsNewConnections) {
    int server_port = 0;
    Socket server = listen_on_free_port(server_port);
    BlackholeProxy proxy(server_port);
    Socket client = connect_to(proxy.port());
    Socket upstream = accept_within(server.fd(), 5000);
    ASSERT_GE(upstream.fd(), 0);
    proxy.partition();
    Socket late = connect_to(proxy.port());
    // Accepted while partitioned (not merely waiting in the backlog), so it is blackholed.
    ASSERT_EQ(settled_count(proxy, &BlackholeProxy::Counts::connections, 2), 2u);

    proxy.heal();
    EXPECT_EQ(receive(client.fd(), 1), "<closed>");
    EXPECT_EQ(receive(upstream.fd(), 1), "<closed>");
    EXPECT_EQ(receive(late.fd(), 1), "<closed>");

    Socket again = connect_to(proxy.port());
    Socket onward = accept_within(server.fd(), 5000);
    ASSERT_GE(onward.fd(), 0) << "a new connection after heal was not forwarded";
    send_text(again.fd(), "back");
    EXPECT_EQ(receive(onward.fd(), 4), "back");
}

}  // namespace
}  // namespace hostline::testing
