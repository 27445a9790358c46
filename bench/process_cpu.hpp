// Seconds on a CPU of the processes a scenario starts and of the bench itself, read from
// /proc: where a scenario's CPU went, beside its wall time.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hostline::bench {

// Seconds on a CPU of one thread (its /proc/PID/task/TID directory), to the nanosecond
// (schedstat: the tick-counted utime of /proc/PID/stat rounds an agent's few milliseconds a
// job down to nothing); `waiting`, if given, gets the seconds it waited, runnable, for a CPU.
double cpu_seconds_of_task(const std::string& task_dir, double* waiting = nullptr);

// The thread ids of pid, in start order.
std::vector<pid_t> tasks_of(pid_t pid);

// /proc/PID/task/TID.
std::string task_dir(pid_t pid, pid_t tid);

// Every thread's seconds on a CPU together (not its reaped children's); 0 for pid <= 0.
double cpu_seconds_of(pid_t pid);

// The seconds of the children pid has reaped (cutime + cstime of /proc/PID/stat): counted in
// clock ticks (10 ms), so meaningful over many children, not over one.
double reaped_children_seconds(pid_t pid);

// One thread of a controller: its name (the io thread keeps the program's, called "io"
// here; the others name themselves: store, store-wal, agent-link, libzmq's ZMQbg/...), its
// seconds on a CPU and the seconds it waited, runnable, for one (a starved thread shows there).
struct ThreadCpu {
    std::string name;
    double on_cpu = 0;
    double waiting = 0;
};

// Each thread of `pid`, in start order, named as it names itself.
std::vector<ThreadCpu> threads_of(pid_t pid);
// The same for a controller, its io thread called "io".
std::vector<ThreadCpu> controller_threads(pid_t pid);

// "io 0.21, store 0.19, ...": each thread's seconds on a CPU since `before` (the same threads
// in the same order: the daemon started them all before), times `scale` (1 / jobs: a job's),
// to `decimals` places.
std::string cpu_since(const std::vector<ThreadCpu>& before, const std::vector<ThreadCpu>& after,
                      double scale = 1, int decimals = 2);

// Seconds on a CPU of this process and of the children it has reaped (and theirs): what a
// baseline run from here cost.
double bench_process_cpu_seconds();

}  // namespace hostline::bench
