// How an output chunk's bytes travel and are stored: as they are, or LZ4-compressed.
//
// Process output is mostly text, which LZ4's block format shrinks to a third or less at
// several hundred MB/s a core; what CURVE boxes at both ends, the agent spools and the
// controller writes into SQLite (twice: log, then database) is then the compressed form. A
// chunk that would not shrink travels as it is. Each chunk is compressed on its own, so any
// one of them can be read back without the others (range reads). The controller says in
// `welcome` whether it takes compressed chunks (docs/protocol.md).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace hostline::proto {

// The names in Output::encoding and Welcome::output_encodings.
inline constexpr std::string_view kEncodingRaw = "";  // the bytes as the process wrote them
inline constexpr std::string_view kEncodingLz4 = "lz4";

// Chunks shorter than this travel as they are: the few bytes saved are not worth the work.
inline constexpr std::size_t kMinCompressedChunk = 256;

struct CompressedChunk {
    std::string_view bytes;    // empty: the output goes as it is
    std::size_t consumed = 0;  // how much of the output they stand for
};

// As much of `raw` (at most kMaxCompressedChunkOutput bytes of it) as LZ4 compresses into one
// message's kMaxChunkBytes: a megabyte of text that shrinks well is one message, not sixteen.
// Nothing when raw is too short to bother or the compressed bytes would not be fewer than
// those they stand for (incompressible output: then kMaxChunkBytes of it go as they are).
// The bytes are in `scratch`, kept from one call to the next: a buffer allocated and freed
// for every chunk had glibc give the heap's top back to the kernel and take it again, a page
// fault and a TLB flush on every core each time.
CompressedChunk compress_chunk(std::string_view raw, std::string& scratch);

// The bytes of a chunk sent or stored with `encoding`; `size` is what they decode to (unused
// for raw bytes). An unknown encoding, a size over kMaxCompressedChunkOutput, or compressed
// bytes that do not decode into exactly `size` bytes are an error that says which.
Result<std::string> decode_chunk(std::string_view encoding, std::string_view bytes,
                                 std::size_t size);

}  // namespace hostline::proto
