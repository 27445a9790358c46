#include "agent/runner/output_chunker.hpp"

#include <algorithm>

namespace hostline::agent {

OutputChunker::OutputChunker(std::size_t max_chunk, std::chrono::milliseconds max_delay)
    : max_chunk_(std::max<std::size_t>(max_chunk, 1)), max_delay_(max_delay) {}

std::vector<Chunk> OutputChunker::append(std::uint64_t run_id, Stream stream,
                                         std::string_view bytes, Clock::time_point now) {
    std::vector<Chunk> ready;
    if (bytes.empty()) return ready;
    auto [it, inserted] = buffers_.try_emplace(Key{run_id, stream});
    Buffer& buffer = it->second;
    if (inserted) buffer.oldest_byte = now;

    if (buffer.data.size() + bytes.size() < max_chunk_) {
        buffer.data.append(bytes);
        return ready;
    }
    // The buffered bytes go out first, topped up from the new ones; then whole chunks
    // straight from bytes; the tail (all of it new, so as old as now) stays buffered.
    std::size_t take = max_chunk_ - buffer.data.size();
    buffer.data.append(bytes.substr(0, take));
    ready.push_back(Chunk{run_id, stream, std::move(buffer.data)});
    bytes.remove_prefix(take);
    while (bytes.size() >= max_chunk_) {
        ready.push_back(Chunk{run_id, stream, std::string(bytes.substr(0, max_chunk_))});
        bytes.remove_prefix(max_chunk_);
    }
    if (bytes.empty()) {
        buffers_.erase(it);
    } else {
        buffer.data.assign(bytes);
        buffer.oldest_byte = now;
    }
    return ready;
}

std::vector<Chunk> OutputChunker::flush_due(Clock::time_point now) {
    std::vector<Chunk> ready;
    for (auto it = buffers_.begin(); it != buffers_.end();) {
        if (now - it->second.oldest_byte >= max_delay_) {
            ready.push_back(Chunk{it->first.first, it->first.second, std::move(it->second.data)});
            it = buffers_.erase(it);
        } else {
            ++it;
        }
    }
    return ready;
}

std::vector<Chunk> OutputChunker::flush_run(std::uint64_t run_id) {
    std::vector<Chunk> ready;
    auto it = buffers_.lower_bound(Key{run_id, Stream::out});
    while (it != buffers_.end() && it->first.first == run_id) {
        ready.push_back(Chunk{run_id, it->first.second, std::move(it->second.data)});
        it = buffers_.erase(it);
    }
    return ready;
}

std::optional<Clock::time_point> OutputChunker::next_deadline() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& [key, buffer] : buffers_) {
        auto due = buffer.oldest_byte + max_delay_;
        if (!earliest || due < *earliest) earliest = due;
    }
    return earliest;
}

}  // namespace hostline::agent
