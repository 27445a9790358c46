#include "agent/runner/output_chunker.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostline::agent {
namespace {

using namespace std::chrono_literals;

const Clock::time_point t0 = Clock::time_point() + 1h;

std::string joined(const std::vector<Chunk>& chunks) {
    std::string all;
    for (const auto& chunk : chunks) all += chunk.data;
    return all;
}

TEST(OutputChunkerTest, SplitsABigWriteIntoMaxSizeChunks) {
    OutputChunker chunker(10, 100ms);
    auto ready = chunker.append(1, Stream::out, "abcdefghijklmnopqrstuvwxy", t0);
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].data, "abcdefghij");
    EXPECT_EQ(ready[1].data, "klmnopqrst");
    EXPECT_EQ(ready[0].run_id, 1u);
    EXPECT_EQ(ready[0].stream, Stream::out);

    auto rest = chunker.flush_run(1);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].data, "uvwxy");
}

TEST(OutputChunkerTest, BufferedBytesAreToppedUpToAFullChunk) {
    OutputChunker chunker(10, 100ms);
    EXPECT_TRUE(chunker.append(1, Stream::out, "1234", t0).empty());
    auto ready = chunker.append(1, Stream::out, "56789abc", t0 + 10ms);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].data, "123456789a");
    // An exactly full buffer leaves at once and nothing stays behind.
    auto exact = chunker.append(1, Stream::out, "defghijk", t0 + 20ms);
    ASSERT_EQ(exact.size(), 1u);
    EXPECT_EQ(exact[0].data, "bcdefghijk");
    EXPECT_FALSE(chunker.next_deadline());
}

// What one compressed message may stand for: the agent cuts a chunk into messages of
// kMaxChunkBytes when it does not compress (agent.cpp).
TEST(OutputChunkerTest, DefaultChunkIsWhatOneCompressedMessageMayHold) {
    OutputChunker chunker;
    std::string big(3 * proto::kMaxCompressedChunkOutput + 5, 'x');
    auto ready = chunker.append(1, Stream::out, big, t0);
    ASSERT_EQ(ready.size(), 3u);
    for (const auto& chunk : ready) EXPECT_EQ(chunk.data.size(), proto::kMaxCompressedChunkOutput);
    EXPECT_EQ(chunker.flush_run(1).at(0).data.size(), 5u);
}

TEST(OutputChunkerTest, SmallWritesAreFlushedAfter100Ms) {
    OutputChunker chunker;
    EXPECT_FALSE(chunker.next_deadline());
    EXPECT_TRUE(chunker.append(1, Stream::out, "hello ", t0).empty());
    EXPECT_TRUE(chunker.append(1, Stream::out, "world", t0 + 60ms).empty());
    ASSERT_TRUE(chunker.next_deadline());
    EXPECT_EQ(*chunker.next_deadline(), t0 + 100ms);  // measured from the oldest byte

    EXPECT_TRUE(chunker.flush_due(t0 + 99ms).empty());
    auto due = chunker.flush_due(t0 + 100ms);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].data, "hello world");
    EXPECT_FALSE(chunker.next_deadline());
    EXPECT_TRUE(chunker.flush_due(t0 + 1s).empty());
}

TEST(OutputChunkerTest, TailOfABigWriteWaitsItsOwnDelay) {
    OutputChunker chunker(4, 100ms);
    chunker.append(1, Stream::out, "ab", t0);
    auto ready = chunker.append(1, Stream::out, "cdef", t0 + 90ms);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].data, "abcd");
    EXPECT_EQ(*chunker.next_deadline(), t0 + 190ms);
    EXPECT_TRUE(chunker.flush_due(t0 + 100ms).empty());
    EXPECT_EQ(joined(chunker.flush_due(t0 + 190ms)), "ef");
}

TEST(OutputChunkerTest, OrderWithinAStreamIsPreserved) {
    OutputChunker chunker(7, 100ms);
    std::string sent;
    std::vector<Chunk> received;
    auto now = t0;
    for (int i = 0; i < 200; ++i) {
        std::string piece(static_cast<std::size_t>(i % 13), static_cast<char>('a' + i % 26));
        piece += std::to_string(i);
        sent += piece;
        now += 7ms;
        for (auto& chunk : chunker.append(3, Stream::err, piece, now)) received.push_back(chunk);
        for (auto& chunk : chunker.flush_due(now)) received.push_back(chunk);
    }
    for (auto& chunk : chunker.flush_run(3)) received.push_back(chunk);
    for (const auto& chunk : received) {
        EXPECT_LE(chunk.data.size(), 7u);
        EXPECT_FALSE(chunk.data.empty());
        EXPECT_EQ(chunk.stream, Stream::err);
    }
    EXPECT_EQ(joined(received), sent);
}

TEST(OutputChunkerTest, RunsAndStreamsAreBufferedSeparately) {
    OutputChunker chunker(100, 100ms);
    chunker.append(2, Stream::err, "2e", t0);
    chunker.append(1, Stream::err, "1e", t0);
    chunker.append(1, Stream::out, "1o", t0 + 50ms);
    chunker.append(2, Stream::out, "2o", t0 + 50ms);
    chunker.append(1, Stream::err, "1e'", t0 + 60ms);

    auto run1 = chunker.flush_run(1);
    ASSERT_EQ(run1.size(), 2u);
    EXPECT_EQ(run1[0].run_id, 1u);
    EXPECT_EQ(run1[0].stream, Stream::out);
    EXPECT_EQ(run1[0].data, "1o");
    EXPECT_EQ(run1[1].stream, Stream::err);
    EXPECT_EQ(run1[1].data, "1e1e'");
    EXPECT_TRUE(chunker.flush_run(1).empty());

    // Run 2 is untouched: its stderr is due first, its stdout later.
    EXPECT_EQ(*chunker.next_deadline(), t0 + 100ms);
    auto due = chunker.flush_due(t0 + 100ms);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].run_id, 2u);
    EXPECT_EQ(due[0].stream, Stream::err);
    EXPECT_EQ(due[0].data, "2e");
    auto rest = chunker.flush_run(2);
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(rest[0].data, "2o");
    EXPECT_FALSE(chunker.next_deadline());
}

TEST(OutputChunkerTest, EmptyAppendBuffersNothing) {
    OutputChunker chunker;
    EXPECT_TRUE(chunker.append(1, Stream::out, "", t0).empty());
    EXPECT_FALSE(chunker.next_deadline());
    EXPECT_TRUE(chunker.flush_run(1).empty());
}

}  // namespace
}  // namespace hostline::agent
