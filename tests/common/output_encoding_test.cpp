// Output chunks LZ4-compressed for the wire and the store: what shrinks is sent compressed and
// comes back byte for byte; what does not is sent as it is; compressed bytes from outside are
// checked before anything is believed.
#include "common/proto/output_encoding.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/proto/messages.hpp"

namespace hostline::proto {
namespace {

// Lines like a command's log output: numbered, with some words repeated.
std::string log_lines(std::size_t bytes) {
    std::string text;
    for (int i = 0; text.size() < bytes; ++i)
        text += "2026-11-25T08:" + std::to_string(10 + i % 50) + " web-" + std::to_string(i % 7) +
                " GET /api/v1/jobs/" + std::to_string(i * 7919 % 100000) + " 200 " +
                std::to_string(i % 13 * 17) + "ms\n";
    text.resize(bytes);
    return text;
}

std::string random_bytes(std::size_t bytes) {
    std::mt19937_64 random(42);
    std::string data(bytes, '\0');
    for (char& c : data) c = static_cast<char>(random());
    return data;
}

// A status line printed over and over, as a polling loop does.
std::string repeated_lines(std::size_t bytes) {
    std::string text;
    while (text.size() < bytes) text += "web-01: service nginx is active (running)\n";
    text.resize(bytes);
    return text;
}

TEST(OutputEncoding, AMegabyteThatShrinksWellIsOneMessageThatDecodesToItByteForByte) {
    const std::string text = repeated_lines(kMaxCompressedChunkOutput);
    std::string scratch;
    CompressedChunk chunk = compress_chunk(text, scratch);
    ASSERT_FALSE(chunk.bytes.empty());
    EXPECT_LE(chunk.bytes.size(), kMaxChunkBytes) << "one message's data";
    EXPECT_EQ(chunk.consumed, text.size()) << "all of it, 16 raw messages' worth";
    auto back = decode_chunk(kEncodingLz4, chunk.bytes, chunk.consumed);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == text.substr(0, chunk.consumed));
}

TEST(OutputEncoding, OutputThatShrinksLessIsTakenUpToWhatOneMessageHolds) {
    // Log lines shrink about 3:1: a megabyte of them does not fit in one message.
    const std::string text = log_lines(kMaxCompressedChunkOutput);
    std::string scratch;
    CompressedChunk chunk = compress_chunk(text, scratch);
    ASSERT_FALSE(chunk.bytes.empty());
    EXPECT_LT(chunk.consumed, text.size());
    EXPECT_GT(chunk.consumed, 2 * kMaxChunkBytes) << "still more than two raw messages' worth";
    EXPECT_LE(chunk.bytes.size(), kMaxChunkBytes);
    auto back = decode_chunk(kEncodingLz4, chunk.bytes, chunk.consumed);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == text.substr(0, chunk.consumed));
}

TEST(OutputEncoding, IncompressibleOrShortOutputIsLeftAsItIs) {
    std::string scratch;
    EXPECT_TRUE(compress_chunk(random_bytes(kMaxChunkBytes), scratch).bytes.empty());
    // LZ4 has no entropy coding: random letters, with no sequence repeated, do not shrink.
    std::mt19937 random(7);
    std::string letters(kMaxCompressedChunkOutput, 'a');
    for (char& c : letters) c = static_cast<char>('0' + random() % 64);
    EXPECT_TRUE(compress_chunk(letters, scratch).bytes.empty());
    EXPECT_TRUE(compress_chunk(std::string(kMinCompressedChunk - 1, 'x'), scratch).bytes.empty());
    EXPECT_FALSE(compress_chunk(std::string(kMinCompressedChunk, 'x'), scratch).bytes.empty());
    EXPECT_TRUE(compress_chunk("", scratch).bytes.empty());
}

TEST(OutputEncoding, TheScratchBufferIsReusedAcrossChunks) {
    std::string scratch;
    const std::string first = log_lines(100000), second = std::string(5000, 'z');
    CompressedChunk a = compress_chunk(first, scratch);
    const std::string a_bytes(a.bytes);
    const char* buffer = scratch.data();
    CompressedChunk b = compress_chunk(second, scratch);
    EXPECT_EQ(scratch.data(), buffer) << "no new allocation for the second chunk";
    EXPECT_EQ(*decode_chunk(kEncodingLz4, b.bytes, b.consumed), second);
    EXPECT_EQ(*decode_chunk(kEncodingLz4, a_bytes, a.consumed), first.substr(0, a.consumed));
}

TEST(OutputEncoding, RawBytesDecodeToThemselves) {
    auto raw = decode_chunk(kEncodingRaw, "as written\n", 0);
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, "as written\n");
}

TEST(OutputEncoding, BadCompressedInputIsAnErrorThatSaysWhatWasWrong) {
    std::string scratch;
    const std::string text = log_lines(200000);
    CompressedChunk chunk = compress_chunk(text, scratch);
    const std::string good(chunk.bytes);

    auto unknown = decode_chunk("zstd", good, chunk.consumed);
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("unknown encoding 'zstd'"), std::string::npos)
        << unknown.error().message;
    // What a peer names is quoted short and printable: it goes into logs and the run's output.
    auto hostile = decode_chunk(std::string(100000, 'z') + "\n\x1b[31m", good, chunk.consumed);
    ASSERT_FALSE(hostile.ok());
    EXPECT_LT(hostile.error().message.size(), 200u) << hostile.error().message;
    EXPECT_EQ(hostile.error().message.find('\n'), std::string::npos);

    // A chunk that claims to stand for more than one may: refused before any allocation.
    auto huge = decode_chunk(kEncodingLz4, good, std::size_t{1} << 40);
    ASSERT_FALSE(huge.ok());
    EXPECT_NE(huge.error().message.find("at most 1048576"), std::string::npos)
        << huge.error().message;

    // The size it says must be the size it decodes to: smaller and larger are both refused.
    for (std::size_t said : {chunk.consumed - 1, chunk.consumed + 1}) {
        auto wrong = decode_chunk(kEncodingLz4, good, said);
        ASSERT_FALSE(wrong.ok()) << said;
        EXPECT_NE(wrong.error().message.find("does not decode into the " + std::to_string(said)),
                  std::string::npos)
            << wrong.error().message;
    }

    // Truncated, random or no bytes are refused.
    for (const std::string& bad :
         {good.substr(0, good.size() / 2), random_bytes(4096), std::string()}) {
        auto decoded = decode_chunk(kEncodingLz4, bad, chunk.consumed);
        ASSERT_FALSE(decoded.ok()) << bad.size() << " bytes";
        EXPECT_NE(decoded.error().message.find("lz4 output chunk"), std::string::npos);
    }
    // LZ4 carries no checksum (CURVE authenticates every message, and SQLite its pages): bytes
    // flipped in the middle may still decode, but only into exactly the size said.
    std::string corrupted = good;
    for (std::size_t i = 0; i < corrupted.size(); i += 97)
        corrupted[i] = static_cast<char>(~corrupted[i]);
    auto decoded = decode_chunk(kEncodingLz4, corrupted, chunk.consumed);
    if (decoded.ok()) {
        EXPECT_EQ(decoded->size(), chunk.consumed);
    }
}

}  // namespace
}  // namespace hostline::proto
