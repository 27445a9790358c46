// Talks to a LocalCluster's chat the way the terminal chat of `hostline dev` does: POST
// /api/v1/chat as a local identity with the admin token. The body goes out through curl byte
// for byte, so a test can send what no well-behaved client would (invalid UTF-8).
#pragma once

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/local_cluster.hpp"

namespace hostline::testing {

struct ChatAnswer {
    int http_status = 0;
    std::vector<std::string> replies;  // the bot's replies; for an HTTP error, its message
    std::string all() const {
        std::string text;
        for (const std::string& r : replies) text += r + "\n";
        return text;
    }
};

// A JSON string literal holding text's bytes: quotes, backslashes and control characters are
// escaped; every other byte is copied as it is, valid UTF-8 or not.
inline std::string json_string_bytes(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (byte < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
            out += escaped;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

inline std::string read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Says text in the chat as identity and waits for the conversation to end (for a job, after
// its summary). scratch: a path prefix this call may write its request and answer to.
inline ChatAnswer say_in_chat(const LocalCluster& cluster, const std::string& identity,
                              const std::string& text, const std::string& scratch) {
    {
        std::ofstream(scratch + ".json", std::ios::binary)
            << "{\"identity\": " << json_string_bytes(identity)
            << ", \"text\": " << json_string_bytes(text) << "}";
        std::string token = read_whole_file(cluster.token_file());
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
        // The token goes in a header file, not on curl's command line where ps shows it.
        std::ofstream(scratch + ".headers")
            << "Authorization: Bearer " << token << "\nContent-Type: application/json\n";
    }
    CommandResult curl =
        run_command({"/usr/bin/curl", "-sS", "-o", scratch + ".answer", "-w", "%{http_code}", "-H",
                     "@" + scratch + ".headers", "--data-binary", "@" + scratch + ".json",
                     cluster.http_url() + "/api/v1/chat"},
                    std::chrono::seconds(60));
    ChatAnswer answer;
    answer.http_status = std::atoi(curl.out.c_str());
    const std::string body = read_whole_file(scratch + ".answer");
    if (answer.http_status != 200) {
        auto doc = nlohmann::json::parse(body, nullptr, false);
        answer.replies.push_back(doc.is_discarded() ? body + curl.err
                                                    : doc["error"].value("message", body));
        return answer;
    }
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        auto doc = nlohmann::json::parse(line, nullptr, false);
        if (!doc.is_discarded() && doc.value("type", "") == "reply")
            answer.replies.push_back(doc.value("text", ""));
    }
    return answer;
}

}  // namespace hostline::testing
