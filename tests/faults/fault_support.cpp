#include "faults/fault_support.hpp"

#include <dirent.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "faults/expected_output.hpp"

namespace hostline::faults {
namespace {

using nlohmann::json;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') return fallback;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (*end != '\0') throw std::runtime_error(std::string(name) + " is not a number: " + text);
    return value;
}

// "3-7, 12" for sorted numbers, at most a few ranges.
std::string ranges(const std::vector<std::uint64_t>& numbers) {
    std::string text;
    int shown = 0;
    for (std::size_t i = 0; i < numbers.size() && shown < 6;) {
        std::size_t j = i;
        while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
        text += (text.empty() ? "" : ", ") + std::to_string(numbers[i]);
        if (j > i) text += "-" + std::to_string(numbers[j]);
        ++shown;
        i = j + 1;
    }
    if (shown == 6) text += ", ...";
    return text;
}

// What is wrong with stored, line by line, for a reader who must fix it.
std::string describe_difference(const WriterJob& job, const std::string& expected,
                                const std::string& stored) {
    std::size_t first = 0;
    while (first < stored.size() && first < expected.size() && stored[first] == expected[first])
        ++first;
    std::string text = "first difference at byte " + std::to_string(first);

    std::vector<std::uint64_t> numbers;
    std::size_t foreign = 0;
    std::string first_foreign;
    for (std::size_t start = 0; start < stored.size();) {
        std::size_t end = stored.find('\n', start);
        const bool complete = end != std::string::npos;
        if (!complete) end = stored.size();
        const std::string_view line(stored.data() + start, end - start);
        std::optional<std::uint64_t> number = writer_line_number(job.tag, line);
        if (!number && !complete && line.size() >= job.tag.size() + 8) {
            // A last line cut short: the writer's line it begins, if it begins one.
            const std::uint64_t n =
                std::strtoull(std::string(line.substr(job.tag.size() + 1, 6)).c_str(), nullptr, 10);
            if (writer_line(job.tag, n).compare(0, line.size(), line) == 0) number = n;
        }
        if (number) {
            numbers.push_back(*number);
        } else {
            if (foreign++ == 0) first_foreign = std::string(line.substr(0, 60));
        }
        start = end + 1;
    }
    std::map<std::uint64_t, int> seen;
    std::vector<std::string> backwards;
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        ++seen[numbers[i]];
        if (i > 0 && numbers[i] < numbers[i - 1] && backwards.size() < 3)
            backwards.push_back(std::to_string(numbers[i]) + " after " +
                                std::to_string(numbers[i - 1]));
    }
    std::vector<std::uint64_t> twice, missing;
    for (const auto& [number, count] : seen)
        if (count > 1) twice.push_back(number);
    const std::uint64_t last = seen.empty() ? 0 : seen.rbegin()->first;
    for (std::uint64_t n = 0; n < last; ++n)
        if (seen.count(n) == 0) missing.push_back(n);
    text +=
        "; " + std::to_string(numbers.size()) + " line(s) stored of " + std::to_string(job.lines);
    if (!missing.empty())
        text += "; MISSING in the middle: " + std::to_string(missing.size()) + " line(s) (" +
                ranges(missing) + ")";
    if (!twice.empty())
        text +=
            "; DUPLICATED: " + std::to_string(twice.size()) + " line(s) (" + ranges(twice) + ")";
    if (!backwards.empty()) {
        text += "; REORDERED:";
        for (const auto& b : backwards) text += " " + b + ";";
    }
    if (foreign > 0)
        text += "; " + std::to_string(foreign) + " line(s) the writer never printed (first: \"" +
                first_foreign + "\")";
    if (!seen.empty() && last + 1 < job.lines)
        text += "; the last " + std::to_string(job.lines - last - 1) + " line(s) never arrived";
    return text;
}

std::string hex_prefix(const std::string& digest) {
    return digest.substr(0, 16);
}

}  // namespace

FaultSettings FaultSettings::from_environment() {
    FaultSettings settings;
    settings.runs = static_cast<int>(env_number("HOSTLINE_FAULT_RUNS", 100));
    settings.kills = static_cast<int>(env_number("HOSTLINE_FAULT_KILLS", 5));
    settings.seed = env_number("HOSTLINE_FAULT_SEED", std::random_device{}());
    std::printf(
        "fault settings: HOSTLINE_FAULT_RUNS=%d HOSTLINE_FAULT_KILLS=%d "
        "HOSTLINE_FAULT_SEED=%llu\n",
        settings.runs, settings.kills, static_cast<unsigned long long>(settings.seed));
    std::fflush(stdout);
    return settings;
}

std::string WriterJob::expected() const {
    return writer_output(tag, lines);
}

WriterJob submit_writer(testing::LocalCluster& cluster, const std::string& agent, std::string tag,
                        std::uint64_t lines, std::uint64_t delay_us) {
    WriterJob job{0, agent, std::move(tag), lines, delay_us};
    const json reply =
        cluster.post_api("/api/v1/jobs", {{"target", agent},
                                          {"argv",
                                           {cluster.bin("fault_writer"), job.tag,
                                            std::to_string(lines), std::to_string(delay_us)}}});
    if (reply.value("matched", json::array()) != json::array({agent}))
        throw std::runtime_error("job for " + agent + " did not match it: " + reply.dump());
    job.job_id = reply.at("job").get<long>();
    return job;
}

std::vector<WriterJob> submit_short_writers(testing::LocalCluster& cluster,
                                            const std::vector<std::string>& agents, int count,
                                            const std::string& tag_prefix, std::mt19937_64& rng) {
    std::uniform_int_distribution<std::uint64_t> line_count(200, 400);
    std::uniform_int_distribution<std::uint64_t> duration_ms(1000, 3000);
    std::vector<WriterJob> jobs;
    for (int i = 0; i < count; ++i) {
        const std::uint64_t lines = line_count(rng);
        const std::uint64_t delay_us = duration_ms(rng) * 1000 / lines;
        jobs.push_back(submit_writer(cluster, agents[static_cast<std::size_t>(i) % agents.size()],
                                     tag_prefix + "-" + std::to_string(i), lines, delay_us));
    }
    return jobs;
}

bool is_final_job_state(const std::string& state) {
    static const std::set<std::string> kFinal{"succeeded", "failed", "partial", "timed_out",
                                              "cancelled", "denied", "expired"};
    return kFinal.count(state) > 0;
}

bool shows_online(testing::LocalCluster& cluster, const std::string& name) {
    for (const json& agent : cluster.try_cli_json({"agents"}).value("agents", json::array()))
        if (agent.value("name", "") == name) return agent.value("online", false);
    return false;
}

std::optional<std::vector<std::pair<long, std::string>>> job_states(
    testing::LocalCluster& cluster) {
    std::vector<std::pair<long, std::string>> states;
    std::string before;
    while (true) {
        std::vector<std::string> args{"jobs", "--limit", "500"};
        if (!before.empty()) args.insert(args.end(), {"--before", before});
        const json page = cluster.try_cli_json(args);
        if (!page.contains("jobs")) return std::nullopt;
        for (const json& job : page["jobs"])
            states.emplace_back(job.value("id", 0L), job.value("state", ""));
        const json next = page.value("next_before", json());
        if (!next.is_number()) return states;
        before = std::to_string(next.get<long>());
    }
}

std::optional<std::size_t> unfinished(testing::LocalCluster& cluster,
                                      const std::vector<WriterJob>& jobs) {
    const auto states = job_states(cluster);
    if (!states) return std::nullopt;
    std::map<long, std::string> by_id(states->begin(), states->end());
    std::size_t count = 0;
    for (const WriterJob& job : jobs) count += !is_final_job_state(by_id[job.job_id]);
    return count;
}

std::string wait_all_final(testing::LocalCluster& cluster, const std::vector<WriterJob>& jobs,
                           std::chrono::seconds bound) {
    std::optional<std::vector<std::pair<long, std::string>>> states;
    const bool done = eventually(
        [&] {
            states = job_states(cluster);
            if (!states) return false;
            std::map<long, std::string> by_id(states->begin(), states->end());
            return std::all_of(jobs.begin(), jobs.end(), [&](const WriterJob& job) {
                return is_final_job_state(by_id[job.job_id]);
            });
        },
        bound, std::chrono::milliseconds(500));
    if (done) return "";
    if (!states) return "the job list could not be read (is the controller up?)";
    std::map<long, std::string> by_id(states->begin(), states->end());
    std::string text;
    int shown = 0;
    for (const WriterJob& job : jobs) {
        const std::string& state = by_id[job.job_id];
        if (is_final_job_state(state)) continue;
        if (++shown <= 10)
            text += " #" + std::to_string(job.job_id) + " on " + job.agent + " is " +
                    (state.empty() ? "missing" : state) + ";";
    }
    return std::to_string(shown) + " job(s) not final after " + std::to_string(bound.count()) +
           " s:" + text;
}

std::string StoredRun::describe() const {
    return "run on " + agent + ": state " + state + ", exit " +
           (exit_code ? std::to_string(*exit_code) : "null") + ", error \"" + error +
           "\", truncated " + (truncated ? "true" : "false") + ", stdout " +
           std::to_string(out.size()) + " bytes stored (" + std::to_string(stdout_bytes) +
           " counted), stderr \"" + err.substr(0, 200) + "\"" +
           (sequence_problem.empty() ? "" : ", " + sequence_problem);
}

StoredRun read_stored_run(testing::LocalCluster& cluster, long job_id) {
    const json doc = cluster.cli_json({"job", std::to_string(job_id), "--output"});
    const json& runs = doc.at("runs");
    if (runs.size() != 1)
        throw std::runtime_error("job #" + std::to_string(job_id) + " has " +
                                 std::to_string(runs.size()) + " runs, not one");
    const json& run = runs[0];
    StoredRun stored;
    stored.agent = run.value("agent", "");
    stored.state = run.value("state", "");
    stored.error = run.value("error", "");
    if (run.contains("exit_code") && run["exit_code"].is_number())
        stored.exit_code = run["exit_code"].get<long>();
    stored.truncated = run.value("truncated", false);
    stored.stdout_bytes = run.value("stdout_bytes", 0L);

    const long run_id = run.value("id", 0L);
    const json output = doc.value("output", json::array());  // chunks points into it
    std::vector<const json*> chunks;
    for (const json& item : output)
        if (item.value("run_id", 0L) == run_id) chunks.push_back(&item);
    std::stable_sort(chunks.begin(), chunks.end(), [](const json* a, const json* b) {
        return a->value("seq", 0L) < b->value("seq", 0L);
    });
    long previous = 0;
    for (const json* chunk : chunks) {
        const long seq = chunk->value("seq", 0L);
        if (seq != previous + 1 && stored.sequence_problem.empty())
            stored.sequence_problem = "stored seq " + std::to_string(seq) + " follows " +
                                      std::to_string(previous) +
                                      (seq == previous ? " (a duplicate)" : " (a gap)");
        previous = seq;
        const std::string stream = chunk->value("stream", "");
        const std::string data = chunk->value("data", "");
        (stream == "stderr" ? stored.err : stored.out) += data;
        stored.last_stream = stream;
        stored.last_data = data;
    }
    return stored;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("EVP_Digest(SHA-256) failed");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

OutputCheck check_output(const WriterJob& job, const std::string& stored) {
    const std::string expected = job.expected();
    const std::string stored_sha = sha256_hex(stored);
    const std::string expected_sha = sha256_hex(expected);
    OutputCheck check;
    check.detail = "stored " + std::to_string(stored.size()) + " bytes (sha256 " +
                   hex_prefix(stored_sha) + "...), the writer printed " +
                   std::to_string(expected.size()) + " (sha256 " + hex_prefix(expected_sha) +
                   "...)";
    if (stored.size() == expected.size() && stored_sha == expected_sha) {
        check.match = OutputMatch::exact;
    } else if (stored.size() < expected.size() &&
               stored_sha == sha256_hex(std::string_view(expected).substr(0, stored.size()))) {
        check.match = OutputMatch::prefix;
        check.detail += "; the stored bytes are its first " + std::to_string(stored.size());
    } else {
        check.match = OutputMatch::differs;
        check.detail += "; " + describe_difference(job, expected, stored);
    }
    return check;
}

std::optional<pid_t> find_process_with_argument(const std::string& arg) {
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return std::nullopt;
    std::optional<pid_t> found;
    while (dirent* entry = ::readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == ::getpid()) continue;
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (std::size_t start = 0; start < cmdline.size();) {
            std::size_t stop = cmdline.find('\0', start);
            if (stop == std::string::npos) stop = cmdline.size();
            if (cmdline.compare(start, stop - start, arg) == 0 &&
                testing::process_alive(static_cast<pid_t>(pid)))
                found = static_cast<pid_t>(pid);
            start = stop + 1;
        }
        if (found) break;
    }
    ::closedir(proc);
    return found;
}

void FaultReport::print() const {
    std::printf(
        "FAULTS-REPORT scenario=%s runs=%d kills=%d partitions=%d succeeded=%d lost=%d "
        "bytes_checked=%llu seconds_to_all_final=%.1f seed=%llu%s%s\n",
        scenario.c_str(), runs, kills, partitions, succeeded, lost,
        static_cast<unsigned long long>(bytes_checked), seconds_to_all_final,
        static_cast<unsigned long long>(seed), extra.empty() ? "" : " ", extra.c_str());
    std::fflush(stdout);
}

}  // namespace hostline::faults
