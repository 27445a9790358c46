// The one file that calls msgpack-c: its exceptions stop here and become Errors.
#include "common/proto/codec.hpp"

#include <msgpack.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace hostline::proto {
namespace {

// Packs one message field; Bytes go out as msgpack bin, everything else by its adaptor.
template <typename Packer>
struct FieldPacker {
    Packer& pk;
    template <typename T>
    void operator()(const char* name, const T& value) {
        pk.pack(std::string_view(name));
        if constexpr (std::is_same_v<T, Bytes>) {
            pk.pack_bin(static_cast<std::uint32_t>(value.data.size()));
            pk.pack_bin_body(value.data.data(), static_cast<std::uint32_t>(value.data.size()));
        } else if constexpr (std::is_same_v<T, std::vector<HeldRun>>) {
            pk.pack_array(static_cast<std::uint32_t>(value.size()));
            for (const HeldRun& run : value) pack_struct(pk, run);
        } else {
            pk.pack(value);
        }
    }

    template <typename S>
    static void pack_struct(Packer& pk, const S& s) {
        std::uint32_t count = 0;
        S::each_field(s, [&](const char*, const auto&) { ++count; });
        pk.pack_map(count);
        S::each_field(s, FieldPacker{pk});
    }
};

// Lets msgpack's packer write into the frame itself: no staging buffer to allocate and copy
// from (msgpack::sbuffer starts at 8 KiB, for messages most of which are under 100 bytes).
struct FrameWriter {
    std::string& frame;
    void write(const char* data, std::size_t size) { frame.append(data, size); }
};

// About what a message's frame takes, so that it is allocated once: its bytes and strings,
// and a little for each field's name and everything else.
template <typename M>
std::size_t frame_size_hint(const M& m) {
    std::size_t bytes = 32;
    M::each_field(m, [&](const char* name, const auto& value) {
        using T = std::decay_t<decltype(value)>;
        bytes += std::char_traits<char>::length(name) + 10;
        if constexpr (std::is_same_v<T, Bytes>)
            bytes += value.data.size();
        else if constexpr (std::is_same_v<T, std::string>)
            bytes += value.size();
    });
    return bytes;
}

using Map = std::vector<std::pair<std::string_view, const msgpack::object*>>;

Result<Map> map_of(const msgpack::object& obj, std::string_view what) {
    if (obj.type != msgpack::type::MAP) return fail(std::string(what) + " is not a map");
    Map map;
    map.reserve(obj.via.map.size);
    for (std::uint32_t i = 0; i < obj.via.map.size; ++i) {
        const msgpack::object_kv& kv = obj.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
            return fail(std::string(what) + " has a non-string key");
        map.emplace_back(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), &kv.val);
    }
    return map;
}

const msgpack::object* find(const Map& map, std::string_view key) {
    for (const auto& [k, v] : map)
        if (k == key) return v;
    return nullptr;
}

template <typename S>
Result<void> unpack_struct(const msgpack::object& obj, S& out, std::string_view what);

// Converts one field, with the field's name in the error. Missing fields keep defaults.
template <typename T>
Result<void> unpack_field(const Map& map, const char* name, T& value, std::string_view what) {
    const msgpack::object* obj = find(map, name);
    if (obj == nullptr || obj->type == msgpack::type::NIL) return {};
    auto wrong = [&](const char* expected) {
        return fail(std::string(what) + "." + name + ": expected " + expected);
    };
    if constexpr (std::is_same_v<T, Bytes>) {
        if (obj->type == msgpack::type::BIN)
            value.data.assign(obj->via.bin.ptr, obj->via.bin.size);
        else if (obj->type == msgpack::type::STR)
            value.data.assign(obj->via.str.ptr, obj->via.str.size);
        else
            return wrong("bytes");
        return {};
    } else if constexpr (std::is_same_v<T, std::vector<HeldRun>>) {
        if (obj->type != msgpack::type::ARRAY) return wrong("an array");
        value.resize(obj->via.array.size);
        for (std::uint32_t i = 0; i < obj->via.array.size; ++i) {
            auto r = unpack_struct(obj->via.array.ptr[i], value[i], std::string(what) + "." + name);
            if (!r) return r;
        }
        return {};
    } else {
        try {
            obj->convert(value);
        } catch (const msgpack::type_error&) {
            if constexpr (std::is_same_v<T, bool>) return wrong("a boolean");
            if constexpr (std::is_integral_v<T>) return wrong("an integer in range");
            if constexpr (std::is_same_v<T, std::string>) return wrong("a string");
            return wrong("a different type");
        } catch (const std::exception&) {
            return wrong("a different type");
        }
        return {};
    }
}

template <typename S>
Result<void> unpack_struct(const msgpack::object& obj, S& out, std::string_view what) {
    auto map = map_of(obj, what);
    if (!map) return map.error();
    Result<void> status;
    S::each_field(out, [&](const char* name, auto& value) {
        if (status) status = unpack_field(*map, name, value, what);
    });
    return status;
}

template <typename S>
Result<Message> decode_as(const msgpack::object& obj) {
    S message;
    auto r = unpack_struct(obj, message, S::kType);
    if (!r) return r.error();
    return Message(std::move(message));
}

using Decoder = Result<Message> (*)(const msgpack::object&);

template <typename... Ts>
constexpr auto decoder_table(std::variant<Ts...>*) {
    return std::array<std::pair<std::string_view, Decoder>, sizeof...(Ts)>{
        {{Ts::kType, &decode_as<Ts>}...}};
}

constexpr auto kDecoders = decoder_table(static_cast<Message*>(nullptr));

// No msgpack container in a valid frame is larger than this; a frame that claims more is
// rejected before msgpack allocates for it.
constexpr std::size_t kMaxArrayItems = 100000, kMaxMapEntries = 10000, kMaxDepth = 8;
const msgpack::unpack_limit kLimits(kMaxArrayItems, kMaxMapEntries, /*str=*/kMaxMessageBytes,
                                    /*bin=*/kMaxMessageBytes, /*ext=*/0, kMaxDepth);

// The starts of the refusals error_code_for() tells apart from "malformed".
constexpr std::string_view kUnknownType = "unknown message type";
constexpr std::string_view kOtherVersion = "protocol version";

}  // namespace

std::string encode(const Message& message) {
    std::string frame;
    FrameWriter writer{frame};
    msgpack::packer<FrameWriter> pk(writer);
    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            frame.reserve(frame_size_hint(m));
            std::uint32_t count = 2;
            M::each_field(m, [&](const char*, const auto&) { ++count; });
            pk.pack_map(count);
            pk.pack(std::string_view("v"));
            pk.pack(kVersion);
            pk.pack(std::string_view("t"));
            pk.pack(std::string_view(M::kType));
            M::each_field(m, FieldPacker<msgpack::packer<FrameWriter>>{pk});
        },
        message);
    return frame;
}

Result<Message> decode(std::string_view frame) {
    if (frame.empty()) return fail("empty frame");
    if (frame.size() > kMaxMessageBytes)
        return fail("frame of " + std::to_string(frame.size()) + " bytes is over the " +
                    std::to_string(kMaxMessageBytes) + "-byte limit");
    msgpack::object_handle handle;
    std::size_t offset = 0;
    try {
        handle = msgpack::unpack(frame.data(), frame.size(), offset, nullptr, nullptr, kLimits);
    } catch (const msgpack::insufficient_bytes&) {
        return fail("truncated msgpack frame");
    } catch (const msgpack::depth_size_overflow&) {
        return fail("msgpack frame nests deeper than " + std::to_string(kMaxDepth) + " levels");
    } catch (const msgpack::array_size_overflow&) {
        return fail("msgpack frame declares an array of more than " +
                    std::to_string(kMaxArrayItems) + " items");
    } catch (const msgpack::map_size_overflow&) {
        return fail("msgpack frame declares a map of more than " + std::to_string(kMaxMapEntries) +
                    " entries");
    } catch (const msgpack::ext_size_overflow&) {
        return fail("msgpack frame holds an ext value, which the protocol does not use");
    } catch (const msgpack::size_overflow&) {
        return fail("msgpack frame declares a string or bin over the frame limit");
    } catch (const std::exception& e) {
        return fail(std::string("malformed msgpack frame: ") + e.what());
    }
    if (offset != frame.size()) return fail("trailing bytes after the msgpack map");

    auto map = map_of(handle.get(), "message");
    if (!map) return map.error();
    const msgpack::object* version = find(*map, "v");
    if (version == nullptr || version->type != msgpack::type::POSITIVE_INTEGER)
        return fail("message has no protocol version 'v'");
    const msgpack::object* type = find(*map, "t");
    const bool has_type = type != nullptr && type->type == msgpack::type::STR;
    std::string_view type_name =
        has_type ? std::string_view(type->via.str.ptr, type->via.str.size) : std::string_view();
    if (version->via.u64 != static_cast<std::uint64_t>(kVersion)) {
        if (type_name == ErrorReply::kType) {
            auto refusal = decode_as<ErrorReply>(handle.get());
            if (!refusal) return refusal;
            auto& error = std::get<ErrorReply>(*refusal);
            if (error.speaks == 0)
                error.speaks = static_cast<std::uint32_t>(
                    std::min<std::uint64_t>(version->via.u64, UINT32_MAX));
            return refusal;
        }
        return fail(std::string(kOtherVersion) + " " + std::to_string(version->via.u64) +
                    " is not supported (this side speaks " + std::to_string(kVersion) + ")");
    }
    if (!has_type) return fail("message has no type 't'");
    for (const auto& [name, decoder] : kDecoders)
        if (name == type_name) return decoder(handle.get());
    return fail(std::string(kUnknownType) + " '" + std::string(type_name.substr(0, 64)) + "'");
}

std::optional<std::uint64_t> declared_version(std::string_view frame) {
    if (frame.empty() || frame.size() > kMaxMessageBytes) return std::nullopt;
    msgpack::object_handle handle;
    std::size_t offset = 0;
    try {
        handle = msgpack::unpack(frame.data(), frame.size(), offset, nullptr, nullptr, kLimits);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    auto map = map_of(handle.get(), "message");
    if (!map) return std::nullopt;
    const msgpack::object* version = find(*map, "v");
    if (version == nullptr || version->type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
    return version->via.u64;
}

const char* error_code_for(const Error& refusal) {
    const std::string& text = refusal.message;
    if (text.starts_with(kUnknownType)) return "unknown_type";
    if (text.starts_with(kOtherVersion)) return "version";
    return "malformed";
}

const char* type_name(const Message& message) {
    return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

}  // namespace hostline::proto
