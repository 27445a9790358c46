// hostline-agent-emulator: many emulated agents in one process (bench/agent_emulator.hpp), so
// that a benchmark measures the controller on its own, apart from the agents it talks to.
//
//   hostline-agent-emulator --keys FILE --controller ENDPOINT --controller-key KEY
//       [--echo ENDPOINT --echo-key KEY] [--label K=V]... [--capacity N]
//       [--output-bytes N] [--chunk-bytes N] [--run-ms N] [--io-threads N]
//       [--zmtp-heartbeat-ms N (5000, as the agent; 0: none)]
//       [--connect-window N (200 connecting at once; 0: all at once)]
//
// FILE holds one identity a line: NAME PUBLIC_KEY SECRET_KEY (Z85). Runs until SIGTERM or
// SIGINT; every 5 s (and at the end) prints one line of counts to stderr.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "bench/agent_emulator.hpp"
#include "bench/open_files.hpp"

namespace {

hostline::bench::AgentEmulator* running_emulator = nullptr;

extern "C" void on_stop_signal(int) {
    if (running_emulator) running_emulator->stop();
}

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "hostline-agent-emulator: %s\n"
                 "usage: hostline-agent-emulator --keys FILE --controller ENDPOINT "
                 "--controller-key KEY [--echo ENDPOINT --echo-key KEY] [--label K=V]... "
                 "[--capacity N] [--output-bytes N] [--chunk-bytes N] [--run-ms N] "
                 "[--io-threads N] [--zmtp-heartbeat-ms N] [--connect-window N]\n",
                 why.c_str());
    std::exit(2);
}

void print_counts(const hostline::bench::EmulatorCounts& counts, std::size_t identities) {
    std::fprintf(stderr,
                 "emulator: %llu/%zu welcomed, %llu runs received, %llu results acked (%llu "
                 "acks), %llu echoes, %llu errors received, %llu send failures\n",
                 static_cast<unsigned long long>(counts.welcomed.load()), identities,
                 static_cast<unsigned long long>(counts.runs.load()),
                 static_cast<unsigned long long>(counts.runs_acked.load()),
                 static_cast<unsigned long long>(counts.acks.load()),
                 static_cast<unsigned long long>(counts.echoes.load()),
                 static_cast<unsigned long long>(counts.errors.load()),
                 static_cast<unsigned long long>(counts.send_failures.load()));
}

}  // namespace

int main(int argc, char** argv) {
    hostline::bench::EmulatorOptions options;
    std::string keys_path;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) usage(flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--keys") {
            keys_path = value;
        } else if (flag == "--controller") {
            options.controller_endpoint = value;
        } else if (flag == "--controller-key") {
            options.controller_key = value;
        } else if (flag == "--echo") {
            options.echo_endpoint = value;
        } else if (flag == "--echo-key") {
            options.echo_key = value;
        } else if (flag == "--label") {
            const auto eq = value.find('=');
            if (eq == std::string::npos) usage("--label takes KEY=VALUE");
            options.labels[value.substr(0, eq)] = value.substr(eq + 1);
        } else if (flag == "--capacity") {
            options.capacity = static_cast<std::uint32_t>(std::stoul(value));
        } else if (flag == "--output-bytes") {
            options.output_bytes = std::stoull(value);
        } else if (flag == "--chunk-bytes") {
            options.chunk_bytes = std::stoul(value);
        } else if (flag == "--run-ms") {
            options.run_duration = std::chrono::milliseconds(std::stoll(value));
        } else if (flag == "--io-threads") {
            options.io_threads = std::stoi(value);
        } else if (flag == "--connect-window") {
            options.connect_window = std::stoul(value);
        } else if (flag == "--zmtp-heartbeat-ms") {
            options.zmtp_heartbeat_ms = std::stoi(value);
        } else {
            usage("unknown option " + flag);
        }
    }
    if (keys_path.empty() || options.controller_endpoint.empty() || options.controller_key.empty())
        usage("--keys, --controller and --controller-key are needed");
    std::ifstream keys(keys_path);
    if (!keys) usage("cannot read " + keys_path);
    hostline::bench::EmulatedIdentity identity;
    while (keys >> identity.name >> identity.keys.public_key >> identity.keys.secret_key)
        options.identities.push_back(identity);
    if (options.identities.empty()) usage(keys_path + " holds no identity");

    // Each identity takes two descriptors per socket (its mailbox's eventfd and its TCP
    // connection): a few thousand identities are beyond the usual soft limit of 1,024.
    const rlim_t open_files = hostline::bench::raise_open_files_limit();
    const std::size_t identities = options.identities.size();
    std::fprintf(stderr, "emulator: %zu identities, open files limit %llu\n", identities,
                 static_cast<unsigned long long>(open_files));

    hostline::bench::AgentEmulator emulator(std::move(options));
    running_emulator = &emulator;
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGINT, on_stop_signal);

    std::atomic<bool> done{false};
    std::thread reporter([&] {
        for (int ticks = 0; !done.load(); ++ticks) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (ticks % 50 == 49) print_counts(emulator.counts(), identities);
        }
    });
    auto served = emulator.run();
    done = true;
    reporter.join();
    print_counts(emulator.counts(), identities);
    if (!served) {
        std::fprintf(stderr, "hostline-agent-emulator: %s\n", served.error().message.c_str());
        return 1;
    }
    return 0;
}
