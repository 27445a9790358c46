// Writes the wire_codec fuzzer's seeds: one frame per message type as encode() makes it,
// with realistic values, so the fuzzer starts from every decoder rather than having to find
// the 't' values itself. Run it to rebuild tests/fuzz/corpus/wire_codec after messages.hpp
// changes:   build-fuzz/bin/wire_codec_seeds tests/fuzz/corpus/wire_codec
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/proto/codec.hpp"
#include "common/proto/output_encoding.hpp"

using namespace hostline::proto;

namespace {

std::vector<std::pair<std::string, Message>> seeds() {
    Hello hello;
    hello.agent_id = "web-01";
    hello.hostname = "web-01.example.com";
    hello.version = "0.1.0";
    hello.labels = {{"role", "web"}, {"env", "prod"}};
    hello.facts = {{"os", "Debian 12"}, {"kernel", "6.1.0-18-amd64"}, {"cpus", "4"}};
    hello.capacity = 8;
    hello.runs = {{41, false}, {42, true}};

    Run run;
    run.run_id = 7;
    run.job_id = 3;
    run.argv = {"systemctl", "status", "nginx"};
    run.env = {{"LANG", "C.UTF-8"}};
    run.cwd = "/tmp";
    run.timeout_ms = 30000;
    run.output_cap = 1 << 20;
    run.user = "www-data";
    run.command = "service-status";

    Run script = run;
    script.run_id = 8;
    script.argv = {"/bin/sh", "SCRIPT", "--verbose"};
    script.script.data = "#!/bin/sh\necho \"$@\"\n";
    script.script_sha256 = std::string(64, 'a');
    script.command = "flush-cache";

    Output output{7, 1, "stdout", Bytes{std::string("line 1\nline 2\n\xff\xfe binary\n")}};
    std::string lines;
    for (int i = 0; i < 200; ++i) lines += "line " + std::to_string(i) + "\n";
    std::string scratch;
    const CompressedChunk packed = compress_chunk(lines, scratch);
    Output compressed{7,        2,
                      "stdout", Bytes{std::string(packed.bytes)},
                      "lz4",    static_cast<std::uint32_t>(packed.consumed)};

    RunResult result;
    result.run_id = 7;
    result.seq = 2;
    result.status = "exited";
    result.exit_code = 3;
    result.started_at_ms = 1767225600000;
    result.ended_at_ms = 1767225601250;
    result.stdout_bytes = 28;
    result.truncated = true;

    RunResult failed;
    failed.run_id = 9;
    failed.seq = 1;
    failed.status = "failed_to_start";
    failed.error = "execve: No such file or directory";

    return {
        {"hello", hello},
        {"welcome", Welcome{"controller-1", 5000, {"lz4"}}},
        {"heartbeat", Heartbeat{2}},
        {"run", run},
        {"run_script", script},
        {"run_ack", RunAck{7, true, ""}},
        {"run_ack_rejected", RunAck{8, false, "ad-hoc runs are refused on this host"}},
        {"output", output},
        {"output_lz4", compressed},
        {"result", result},
        {"result_failed", failed},
        {"ack", Ack{7, 2}},
        {"cancel", Cancel{7}},
        {"bye", Bye{"shutting down"}},
        {"error", ErrorReply{"no_session", "send hello first"}},
        {"enroll", Enroll{"db-02", "db-02.example.com", "0.1.0", {{"role", "db"}}, "s3cret"}},
        {"enroll_reply", EnrollReply{true, "db-02", {{"env", "staging"}}, ""}},
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 2;
    }
    for (const auto& [name, message] : seeds()) {
        const std::string path = std::string(argv[1]) + "/" + name + ".msgpack";
        std::ofstream(path, std::ios::binary) << encode(message);
        if (!decode(encode(message))) {
            std::fprintf(stderr, "%s does not decode\n", name.c_str());
            return 1;
        }
    }
    return 0;
}
