// libFuzzer target: one ZeroMQ frame as a peer could send it, through proto::decode.
//
// decode() must turn any bytes into a Message or an Error without crashing, leaking or
// undefined behaviour. A frame that decodes must also survive a round trip: encoding the
// message and decoding it again gives the same message, field by field. A mismatch aborts,
// so the fuzzer reports it like a crash. An `output` that decodes has its data decoded as the
// controller does (proto::decode_chunk): an error, or exactly the size it says.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <variant>

#include "common/proto/codec.hpp"
#include "common/proto/output_encoding.hpp"

namespace {

using namespace hostline::proto;

// Compares two messages of one type through each_field, so no message needs an operator==
// and a field added to messages.hpp is compared without touching this file.
template <typename M>
bool same_fields(const M& a, const M& b) {
    bool same = true;
    M::each_field(a, [&](const char* name, const auto& left) {
        M::each_field(b, [&](const char* other, const auto& right) {
            using L = std::decay_t<decltype(left)>;
            using R = std::decay_t<decltype(right)>;
            if constexpr (std::is_same_v<L, R>) {
                if (std::string_view(name) == other && !(left == right)) {
                    std::fprintf(stderr, "round trip changed %s.%s\n", M::kType, name);
                    same = false;
                }
            }
        });
    });
    return same;
}

bool same_message(const Message& a, const Message& b) {
    if (a.index() != b.index()) return false;
    return std::visit(
        [&](const auto& left) {
            using M = std::decay_t<decltype(left)>;
            return same_fields(left, std::get<M>(b));
        },
        a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view frame(reinterpret_cast<const char*>(data), size);
    auto decoded = decode(frame);
    if (!decoded) {
        if (decoded.error().message.empty()) std::abort();  // an error must say what was wrong
        return 0;
    }
    const std::string encoded = encode(*decoded);
    auto again = decode(encoded);
    if (!again) {
        std::fprintf(stderr, "%s decoded, but its own encoding does not: %s\n", type_name(*decoded),
                     again.error().message.c_str());
        std::abort();
    }
    if (!same_message(*decoded, *again)) {
        std::fprintf(stderr, "%s changed in a round trip\n", type_name(*decoded));
        std::abort();
    }
    if (const auto* output = std::get_if<Output>(&*decoded); output && !output->encoding.empty()) {
        auto bytes = decode_chunk(output->encoding, output->data.data, output->size);
        if (bytes ? bytes->size() != output->size : bytes.error().message.empty()) {
            std::fprintf(stderr, "an lz4 chunk decoded into another size than it says\n");
            std::abort();
        }
    }
    return 0;
}
