// What the daemons tell systemd, read from a real notify socket as systemd would read it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/service/service_manager.hpp"

namespace hostline::service {
namespace {

// A unix datagram socket standing in for systemd's, named by $NOTIFY_SOCKET for the test: a
// file, or (abstract) a name in the abstract namespace, which $NOTIFY_SOCKET writes "@NAME".
class NotifySocket {
  public:
    explicit NotifySocket(bool abstract = false) {
        const std::string name = "hostline-notify-" + std::to_string(::getpid());
        path_ = abstract ? std::filesystem::path("@" + name)
                         : std::filesystem::temp_directory_path() / name;
        if (!abstract) std::filesystem::remove(path_);
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path_.c_str());
        socklen_t length = sizeof address;
        if (abstract) {
            address.sun_path[0] = '\0';
            length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
        }
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::close(fd_);
        if (path_.string()[0] != '@') std::filesystem::remove(path_);
    }
    std::string next() {
        char buffer[4096];
        timeval timeout{2, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }

  private:
    std::filesystem::path path_;
    int fd_ = -1;
};

TEST(ServiceManager, ReadyStatusAndStoppingReachTheNotifySocket) {
    NotifySocket systemd;
    EXPECT_TRUE(under_service_manager());
    notify_ready("listening on tcp://*:7420");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=listening on tcp://*:7420");
    notify_status("3 agents online");
    EXPECT_EQ(systemd.next(), "STATUS=3 agents online");
    notify_stopping("stopping: SIGTERM");
    EXPECT_EQ(systemd.next(), "STOPPING=1\nSTATUS=stopping: SIGTERM");
}

// Without libsystemd the daemons speak the protocol themselves: an abstract socket too.
TEST(ServiceManager, AnAbstractNotifySocketGetsTheMessagesToo) {
    NotifySocket systemd(/*abstract=*/true);
    notify_ready("listening");
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=listening");
}

TEST(ServiceManager, AStatusIsOneLineSoItCannotSetAnythingElse) {
    NotifySocket systemd;
    notify_status("agent web-01\nREADY=1");
    EXPECT_EQ(systemd.next(), "STATUS=agent web-01 READY=1");
}

TEST(ServiceManager, WithoutANotifySocketNothingHappens) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(under_service_manager());
    notify_ready("ready");  // must not fail or block
}

}  // namespace
}  // namespace hostline::service
