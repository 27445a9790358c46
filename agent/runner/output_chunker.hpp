// OutputChunker: cuts a run's output into the chunks sent to the controller.
//
// Each (run, stream) has its own buffer. A chunk never exceeds max_chunk bytes, and no byte
// waits longer than max_delay once it is buffered, as long as the caller calls flush_due()
// by next_deadline(). Bytes of one (run, stream) leave in the order they came in.
// Thread: the agent's poll-loop thread; a plain value with no I/O and no clock of its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/runner/process_runner.hpp"
#include "common/proto/messages.hpp"

namespace hostline::agent {

struct Chunk {
    std::uint64_t run_id = 0;
    Stream stream = Stream::out;
    std::string data;  // never empty
    // How much of data the agent has put into its spool so far: a chunk may travel in
    // several messages (agent.cpp).
    std::size_t spooled = 0;
};

class OutputChunker {
  public:
    // max_chunk must be positive (0 is taken as 1).
    explicit OutputChunker(std::size_t max_chunk = proto::kMaxCompressedChunkOutput,
                           std::chrono::milliseconds max_delay = std::chrono::milliseconds(100));

    // Buffers bytes and returns the chunks that are full now: every one exactly max_chunk
    // bytes, possibly several for one big write. The rest waits for more bytes, flush_due()
    // or flush_run().
    std::vector<Chunk> append(std::uint64_t run_id, Stream stream, std::string_view bytes,
                              Clock::time_point now);

    // Every buffer whose oldest byte came in max_delay or more before now.
    std::vector<Chunk> flush_due(Clock::time_point now);

    // Everything still buffered for run_id (call before sending its result): stdout's chunk,
    // then stderr's. The run leaves no state behind.
    std::vector<Chunk> flush_run(std::uint64_t run_id);

    // When flush_due() next has something to return; empty when nothing is buffered.
    std::optional<Clock::time_point> next_deadline() const;

  private:
    struct Buffer {
        std::string data;               // shorter than max_chunk_, never empty
        Clock::time_point oldest_byte;  // when data's first byte was appended
    };
    using Key = std::pair<std::uint64_t, Stream>;

    // Constant after construction.
    const std::size_t max_chunk_;
    const std::chrono::milliseconds max_delay_;
    // Ordered, so flushes come out by run id, then stdout before stderr.
    std::map<Key, Buffer> buffers_;
};

}  // namespace hostline::agent
