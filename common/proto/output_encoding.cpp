#include "common/proto/output_encoding.hpp"

#include <lz4.h>

#include <limits>

#include "common/printable.hpp"
#include "common/proto/messages.hpp"

namespace hostline::proto {

CompressedChunk compress_chunk(std::string_view raw, std::string& scratch) {
    raw = raw.substr(0, kMaxCompressedChunkOutput);
    if (raw.size() < kMinCompressedChunk) return {};
    if (scratch.size() < kMaxChunkBytes) scratch.resize(kMaxChunkBytes);
    int consumed = static_cast<int>(raw.size());
    const int size = LZ4_compress_destSize(raw.data(), scratch.data(), &consumed,
                                           static_cast<int>(kMaxChunkBytes));
    if (size <= 0 || size >= consumed) return {};
    return {std::string_view(scratch.data(), static_cast<std::size_t>(size)),
            static_cast<std::size_t>(consumed)};
}

Result<std::string> decode_chunk(std::string_view encoding, std::string_view bytes,
                                 std::size_t size) {
    if (encoding == kEncodingRaw) return std::string(bytes);
    if (encoding != kEncodingLz4)
        return fail("an output chunk in an unknown encoding '" + printable(encoding, 32) +
                    "' (this controller knows lz4)");
    if (size > kMaxCompressedChunkOutput)
        return fail("an lz4 output chunk said to hold " + std::to_string(size) +
                    " bytes (one holds at most " + std::to_string(kMaxCompressedChunkOutput) + ")");
    if (bytes.size() > kMaxMessageBytes)
        return fail("an lz4 output chunk of " + std::to_string(bytes.size()) + " bytes");
    std::string raw(size, '\0');
    // Never writes past `size`, and fails on anything that is not a whole LZ4 block whose
    // output fits in it.
    const int decoded = LZ4_decompress_safe(
        bytes.data(), raw.data(), static_cast<int>(bytes.size()), static_cast<int>(raw.size()));
    if (decoded < 0 || static_cast<std::size_t>(decoded) != size)
        return fail("an lz4 output chunk of " + std::to_string(bytes.size()) +
                    " bytes that does not decode into the " + std::to_string(size) +
                    " bytes it says");
    return raw;
}

}  // namespace hostline::proto
