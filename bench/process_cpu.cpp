#include "bench/process_cpu.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace hostline::bench {

double cpu_seconds_of_task(const std::string& task_dir, double* waiting) {
    std::ifstream in(task_dir + "/schedstat");
    long long on_cpu_ns = 0, waiting_ns = 0;
    in >> on_cpu_ns >> waiting_ns;
    if (waiting != nullptr) *waiting = static_cast<double>(waiting_ns) / 1e9;
    return static_cast<double>(on_cpu_ns) / 1e9;
}

std::vector<pid_t> tasks_of(pid_t pid) {
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
        tids.push_back(std::atoi(entry.path().filename().c_str()));
    std::sort(tids.begin(), tids.end());
    return tids;
}

std::string task_dir(pid_t pid, pid_t tid) {
    return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
}

double cpu_seconds_of(pid_t pid) {
    if (pid <= 0) return 0;
    double seconds = 0;
    for (pid_t tid : tasks_of(pid)) seconds += cpu_seconds_of_task(task_dir(pid, tid));
    return seconds;
}

// cutime + cstime: fields 16 and 17 of /proc/PID/stat.
double reaped_children_seconds(pid_t pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close_paren = text.rfind(')');  // the command name may hold spaces
    if (close_paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(close_paren + 2));
    std::string skipped;
    for (int field = 3; field < 16; ++field) fields >> skipped;  // state .. stime
    long cutime = 0, cstime = 0;
    fields >> cutime >> cstime;
    return static_cast<double>(cutime + cstime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::vector<ThreadCpu> threads_of(pid_t pid) {
    std::vector<ThreadCpu> threads;
    for (pid_t tid : tasks_of(pid)) {
        ThreadCpu thread;
        std::ifstream(task_dir(pid, tid) + "/comm") >> thread.name;
        thread.on_cpu = cpu_seconds_of_task(task_dir(pid, tid), &thread.waiting);
        threads.push_back(std::move(thread));
    }
    return threads;
}

std::vector<ThreadCpu> controller_threads(pid_t pid) {
    std::vector<ThreadCpu> threads = threads_of(pid);
    for (ThreadCpu& thread : threads)
        if (thread.name.rfind("hostline-contro", 0) == 0) thread.name = "io";
    return threads;
}

std::string cpu_since(const std::vector<ThreadCpu>& before, const std::vector<ThreadCpu>& after,
                      double scale, int decimals) {
    std::string out;
    for (std::size_t i = 0; i < after.size() && i < before.size(); ++i) {
        char text[80];
        std::snprintf(text, sizeof text, "%s%s %.*f", out.empty() ? "" : ", ",
                      after[i].name.c_str(), decimals,
                      (after[i].on_cpu - before[i].on_cpu) * scale);
        out += text;
    }
    return out;
}

double bench_process_cpu_seconds() {
    auto seconds = [](int who) {
        rusage usage{};
        getrusage(who, &usage);
        auto of = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
        return of(usage.ru_utime) + of(usage.ru_stime);
    };
    return seconds(RUSAGE_SELF) + seconds(RUSAGE_CHILDREN);
}

}  // namespace hostline::bench
