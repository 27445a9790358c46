#include "common/proto/codec.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <random>

namespace hostline::proto {
namespace {

template <typename T>
T round_trip(const T& message) {
    auto decoded = decode(encode(message));
    EXPECT_TRUE(decoded.ok()) << (decoded ? "" : decoded.error().message);
    EXPECT_TRUE(std::holds_alternative<T>(*decoded));
    return std::get<T>(*decoded);
}

std::string pack_map(const std::map<std::string, msgpack::type::variant>& fields) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, fields);
    return std::string(buffer.data(), buffer.size());
}

TEST(Codec, HelloRoundTripsEveryField) {
    Hello hello;
    hello.agent_id = "web-01";
    hello.hostname = "web-01.example";
    hello.version = "0.1.0";
    hello.labels = {{"role", "web"}, {"env", "prod"}};
    hello.facts = {{"os", "Debian 12"}};
    hello.capacity = 8;
    hello.runs = {{41, false}, {42, true}};
    Hello back = round_trip(hello);
    EXPECT_EQ(back.agent_id, "web-01");
    EXPECT_EQ(back.hostname, "web-01.example");
    EXPECT_EQ(back.labels, hello.labels);
    EXPECT_EQ(back.facts, hello.facts);
    EXPECT_EQ(back.capacity, 8u);
    EXPECT_EQ(back.runs, hello.runs);
}

TEST(Codec, RunCarriesArgvEnvAndLimits) {
    proto::Run run{7,
                   3,
                   {"systemctl", "status", "nginx; rm -rf /"},
                   {{"LANG", "C"}},
                   "/tmp",
                   30000,
                   1024,
                   "www-data",
                   ""};
    proto::Run back = round_trip(run);
    EXPECT_EQ(back.argv, run.argv);
    EXPECT_EQ(back.env, run.env);
    EXPECT_EQ(back.cwd, "/tmp");
    EXPECT_EQ(back.timeout_ms, 30000u);
    EXPECT_EQ(back.user, "www-data");
}

TEST(Codec, OutputBytesAreBinaryAndSurviveEveryByteValue) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
    Output back = round_trip(Output{1, 2, "stdout", Bytes{bytes}});
    EXPECT_EQ(back.data.data, bytes);
    EXPECT_EQ(back.seq, 2u);
    // On the wire the data is a msgpack bin, not a str.
    std::string frame = encode(Output{1, 2, "stdout", Bytes{"x"}});
    auto handle = msgpack::unpack(frame.data(), frame.size());
    bool found = false;
    for (std::uint32_t i = 0; i < handle.get().via.map.size; ++i) {
        const auto& kv = handle.get().via.map.ptr[i];
        if (kv.key.as<std::string>() == "data") {
            EXPECT_EQ(kv.val.type, msgpack::type::BIN);
            found = true;
        }
    }
    EXPECT_TRUE(found);
}

TEST(Codec, EveryTypeRoundTrips) {
    Welcome welcome = round_trip(Welcome{"ctl", 5000, {"lz4"}});
    EXPECT_EQ(welcome.output_encodings, std::vector<std::string>{"lz4"});
    Output compressed = round_trip(Output{3, 1, "stdout", Bytes{"\x1f\x00"}, "lz4", 70000});
    EXPECT_EQ(compressed.encoding, "lz4");
    EXPECT_EQ(compressed.size, 70000u);
    round_trip(Heartbeat{3});
    round_trip(RunAck{1, false, "agent is at capacity"});
    RunResult r = round_trip(RunResult{9, 4, "exited", 2, 0, 10, 20, 5, 6, true, ""});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(r.truncated);
    EXPECT_EQ(round_trip(Ack{9, 4}).seq, 4u);
    EXPECT_EQ(round_trip(Cancel{9}).run_id, 9u);
    EXPECT_EQ(round_trip(Bye{"stopping"}).reason, "stopping");
    EXPECT_EQ(round_trip(ErrorReply{"no_session", "say hello"}).code, "no_session");
}

TEST(Codec, UnknownFieldsAreIgnoredAndMissingOnesKeepDefaults) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    pk.pack_map(4);
    pk.pack("v"), pk.pack(kVersion);
    pk.pack("t"), pk.pack("cancel");
    pk.pack("run_id"), pk.pack(12);
    pk.pack("from_the_future"), pk.pack(std::vector<int>{1, 2, 3});
    auto decoded = decode(std::string(buffer.data(), buffer.size()));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(std::get<Cancel>(*decoded).run_id, 12u);

    auto sparse = decode(pack_map({{"v", kVersion}, {"t", std::string("run")}}));
    ASSERT_TRUE(sparse.ok());
    EXPECT_TRUE(std::get<proto::Run>(*sparse).argv.empty());
}

TEST(Codec, UnknownTypeIsAnErrorNamingIt) {
    auto decoded = decode(pack_map({{"v", kVersion}, {"t", std::string("launch_missiles")}}));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "unknown message type 'launch_missiles'");
}

TEST(Codec, AnErrorOfAnotherVersionIsReadSoThatARefusalIsUnderstood) {
    auto refusal = decode(pack_map({{"v", 2},
                                    {"t", std::string("error")},
                                    {"code", std::string("version")},
                                    {"message", std::string("protocol version 1 is not supported")},
                                    {"from_version_2", std::string("ignored")}}));
    ASSERT_TRUE(refusal.ok()) << refusal.error().message;
    EXPECT_EQ(std::get<ErrorReply>(*refusal).code, "version");
    EXPECT_EQ(std::get<ErrorReply>(*refusal).speaks, 2u) << "the frame's own version";
    EXPECT_EQ(std::get<ErrorReply>(*refusal).message, "protocol version 1 is not supported");

    auto said = decode(pack_map({{"v", 3}, {"t", std::string("error")}, {"speaks", 4}}));
    ASSERT_TRUE(said.ok()) << said.error().message;
    EXPECT_EQ(std::get<ErrorReply>(*said).speaks, 4u) << "what the sender says it speaks";
    EXPECT_EQ(round_trip(ErrorReply{"version", "no", 1}).speaks, 1u);
}

TEST(Codec, DeclaredVersionIsTheFramesV) {
    EXPECT_EQ(declared_version(pack_map({{"v", 7}, {"t", std::string("hello")}})), 7u);
    EXPECT_EQ(declared_version(encode(Heartbeat{1})), static_cast<std::uint64_t>(kVersion));
    EXPECT_FALSE(declared_version(pack_map({{"t", std::string("hello")}})).has_value());
    EXPECT_FALSE(declared_version(std::string("\x01\x02\xff", 3)).has_value());
    EXPECT_FALSE(declared_version("").has_value());
}

TEST(Codec, OtherProtocolVersionIsRefused) {
    auto decoded = decode(pack_map({{"v", 99}, {"t", std::string("hello")}}));
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().message.find("protocol version 99"), std::string::npos);
}

TEST(Codec, WrongFieldTypeNamesTheField) {
    auto decoded = decode(
        pack_map({{"v", kVersion}, {"t", std::string("run")}, {"run_id", std::string("seven")}}));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "run.run_id: expected an integer in range");
    auto negative = decode(pack_map({{"v", kVersion}, {"t", std::string("ack")}, {"seq", -1}}));
    ASSERT_FALSE(negative.ok());
}

TEST(Codec, NonMapFramesAreRejected) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, std::vector<int>{1, 2});
    auto decoded = decode(std::string(buffer.data(), buffer.size()));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "message is not a map");
    EXPECT_FALSE(decode("").ok());
}

TEST(Codec, TruncatedFramesAreRejectedAtEveryLength) {
    std::string frame = encode(Hello{"web-01", "h", "1", {{"a", "b"}}, {}, 4, {{1, false}}});
    for (std::size_t n = 0; n < frame.size(); ++n) {
        auto decoded = decode(std::string_view(frame).substr(0, n));
        EXPECT_FALSE(decoded.ok()) << "prefix of " << n << " bytes decoded";
    }
}

TEST(Codec, TrailingBytesAreRejected) {
    std::string frame = encode(Heartbeat{1}) + "x";
    auto decoded = decode(frame);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "trailing bytes after the msgpack map");
}

TEST(Codec, OversizedFrameIsRejectedWithoutParsing) {
    std::string frame(kMaxMessageBytes + 1, '\x80');
    auto decoded = decode(frame);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().message.find("over the"), std::string::npos);
}

TEST(Codec, HugeDeclaredContainersAreRejected) {
    // A map header claiming 2^32-1 entries in a 5-byte frame.
    std::string frame("\xdf\xff\xff\xff\xff", 5);
    EXPECT_FALSE(decode(frame).ok());
    std::string array("\xdd\xff\xff\xff\xff", 5);
    EXPECT_FALSE(decode(array).ok());
}

TEST(Codec, DeepNestingIsRefusedAtTheDepthLimit) {
    // 10,000 nested one-element arrays: refused at the ninth level, long before the end.
    std::string frame(10000, '\x91');
    frame += '\xc0';
    auto decoded = decode(frame);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "msgpack frame nests deeper than 8 levels");
    EXPECT_STREQ(error_code_for(decoded.error()), "malformed");

    // The same inside a message's field.
    std::string nested = encode(Heartbeat{1});
    ASSERT_EQ(nested[0] & 0xf0, 0x80) << "a fixmap";
    nested[0] = static_cast<char>(nested[0] + 1);  // one more entry: "x" -> [[[...]]]
    nested += "\xa1x" + std::string(20, '\x91') + "\xc0";
    decoded = decode(nested);
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().message.find("nests deeper"), std::string::npos);
}

TEST(Codec, HeadersClaimingHugeSizesAreRefusedWithoutAllocatingForThem) {
    // An array header claiming 2^32-1 elements, followed by a few.
    std::string array = std::string("\xdd\xff\xff\xff\xff", 5) + std::string(64, '\x01');
    auto decoded = decode(array);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "msgpack frame declares an array of more than 100000 items");

    // One over the limits, in a frame that holds every element: the limit decides, not length.
    std::string map = std::string("\xdf\x00\x00\x27\x11", 5);  // 10,001 entries
    for (int i = 0; i < 10001; ++i) map += std::string("\x01\x02", 2);
    decoded = decode(map);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "msgpack frame declares a map of more than 10000 entries");

    // A bin header claiming 4 GiB in a frame of a few bytes: refused before reading on.
    std::string bin = std::string(
                          "\x81\xa4"
                          "data"
                          "\xc6\xff\xff\xff\xff",
                          11) +
                      "abc";
    decoded = decode(bin);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error().message, "truncated msgpack frame");
    std::string str = std::string(
                          "\x81\xa4"
                          "data"
                          "\xdb\xff\xff\xff\xff",
                          11) +
                      "abc";
    EXPECT_FALSE(decode(str).ok());

    // ext values are not part of the protocol.
    decoded = decode(std::string("\xd4\x01\x00", 3));
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.error().message.find("ext"), std::string::npos);
}

TEST(Codec, TheLimitsAdmitTheLargestMessagesAgentsSend) {
    Hello hello;
    hello.agent_id = "big-01";
    for (int i = 0; i < 10000; ++i) hello.labels["label" + std::to_string(i)] = "v";
    for (std::uint64_t i = 0; i < 100000; ++i) hello.runs.push_back({i, i % 2 == 0});
    EXPECT_EQ(round_trip(hello).runs.size(), 100000u);

    Output output{1, 1, "stdout", {std::string(kMaxChunkBytes, 'x')}};
    EXPECT_EQ(round_trip(output).data.data.size(), kMaxChunkBytes);
}

TEST(Codec, EachRefusalMapsToTheErrorCodeThatAnswersIt) {
    auto unknown = decode(pack_map({{"v", kVersion}, {"t", std::string("launch_missiles")}}));
    ASSERT_FALSE(unknown.ok());
    EXPECT_STREQ(error_code_for(unknown.error()), "unknown_type");
    auto version = decode(pack_map({{"v", 2}, {"t", std::string("hello")}}));
    ASSERT_FALSE(version.ok());
    EXPECT_STREQ(error_code_for(version.error()), "version");
    auto no_type = decode(pack_map({{"v", kVersion}}));
    ASSERT_FALSE(no_type.ok());
    EXPECT_EQ(no_type.error().message, "message has no type 't'");
    EXPECT_STREQ(error_code_for(no_type.error()), "malformed");
    auto wrong_field = decode(
        pack_map({{"v", kVersion}, {"t", std::string("output")}, {"seq", std::string("one")}}));
    ASSERT_FALSE(wrong_field.ok());
    EXPECT_STREQ(error_code_for(wrong_field.error()), "malformed");
}

TEST(Codec, RandomGarbageNeverCrashes) {
    std::mt19937 random(42);
    std::string valid = encode(RunResult{1, 2, "exited", 0, 0, 1, 2, 3, 4, false, "e"});
    for (int i = 0; i < 20000; ++i) {
        std::string frame;
        if (i % 2 == 0) {
            frame.resize(random() % 64);
            for (char& c : frame) c = static_cast<char>(random());
        } else {
            frame = valid;  // mutate a valid frame: the interesting inputs
            for (int flips = 0; flips < 3; ++flips)
                frame[random() % frame.size()] = static_cast<char>(random());
        }
        (void)decode(frame);
    }
}

TEST(Codec, RunCarriesAScriptAsBinaryWithItsHash) {
    proto::Run run;
    run.run_id = 8;
    run.argv = {"/bin/sh", "scripts/who.sh", "a b; rm -rf /"};
    std::string content = "#!/bin/sh\nprintf '%s\\n' \"$@\"\n";
    content += std::string("\0\xff", 2);  // a script need not be text
    run.script = Bytes{content};
    run.script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    proto::Run back = round_trip(run);
    EXPECT_EQ(back.script.data, content);
    EXPECT_EQ(back.script_sha256, run.script_sha256);
    EXPECT_EQ(back.argv, run.argv);

    // Runs from before scripts existed decode as "no script".
    auto old = decode(pack_map({{"v", kVersion}, {"t", std::string("run")}, {"run_id", 9}}));
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(std::get<proto::Run>(*old).script.data, "");
    EXPECT_EQ(std::get<proto::Run>(*old).script_sha256, "");
}

TEST(Codec, RunCarriesTheCatalogCommandAndOlderRunsAreAdHoc) {
    proto::Run run;
    run.run_id = 10;
    run.argv = {"uptime"};
    run.command = "uptime";
    EXPECT_EQ(round_trip(run).command, "uptime");

    auto old = decode(pack_map({{"v", kVersion}, {"t", std::string("run")}, {"run_id", 11}}));
    ASSERT_TRUE(old.ok()) << old.error().message;
    EXPECT_EQ(std::get<proto::Run>(*old).command, "");
}

}  // namespace
}  // namespace hostline::proto
