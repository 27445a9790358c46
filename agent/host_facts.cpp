#include "agent/host_facts.hpp"

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <thread>

namespace hostline::agent {

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

std::map<std::string, std::string> host_facts() {
    std::map<std::string, std::string> facts;
    struct utsname u {};
    if (::uname(&u) == 0) {
        facts["kernel"] = u.release;
        facts["arch"] = u.machine;
    }
    facts["cpus"] = std::to_string(std::thread::hardware_concurrency());
    struct sysinfo si {};
    if (::sysinfo(&si) == 0)
        facts["memory_mb"] = std::to_string(static_cast<unsigned long long>(si.totalram) *
                                            si.mem_unit / (1024 * 1024));
    std::ifstream os_release("/etc/os-release");
    for (std::string line; std::getline(os_release, line);) {
        if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
        std::string value = line.substr(12);
        if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
        facts["os"] = value;
    }
    return facts;
}

}  // namespace hostline::agent
