#include "cli/commands/command_support.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hostline::cli {

namespace {

Result<std::string> read_token(const std::string& path) {
    if (path.empty())
        return fail(
            "no API token: pass --token-file PATH or set HOSTLINE_TOKEN_FILE to a file "
            "holding the token");
    std::ifstream file(path, std::ios::binary);
    if (!file) return fail("cannot read the token file " + path + ": " + std::strerror(errno));
    std::ostringstream contents;
    contents << file.rdbuf();
    const std::string text = contents.str();
    const char* kSpace = " \t\r\n\v\f";
    const std::size_t first = text.find_first_not_of(kSpace);
    if (first == std::string::npos) return fail("the token file " + path + " is empty");
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

Result<ApiClient> connect_to_controller(const CommandContext& context) {
    auto url = parse_controller_url(context.controller);
    if (!url) return url.error();
    auto token = read_token(context.token_file);
    if (!token) return token.error();
    return ApiClient(std::move(url).value(),
                     ApiToken{std::move(token).value(), context.token_file});
}

void run_api_command(CommandContext& context,
                     const std::function<Result<int>(ApiClient& api)>& body) {
    auto report = [&](const std::string& message) {
        context.console.err << "hostline: " << message << '\n';
        context.exit_status = 1;
    };
    auto api = connect_to_controller(context);
    if (!api) return report(api.error().message);
    // The commands read documents through cli/output/fields.hpp, which does not throw;
    // this catch is for what slips past it, so that an odd document never ends in a trace.
    try {
        auto status = body(*api);
        if (!status) return report(status.error().message);
        context.exit_status = *status;
    } catch (const nlohmann::json::exception& e) {
        report(std::string("the controller sent a document this CLI cannot read: ") + e.what());
    }
}

void print_json(std::ostream& out, const nlohmann::json& document) {
    out << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    out.flush();
}

Result<std::int64_t> parse_job_id(std::string_view text) {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '#') digits.remove_prefix(1);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || id <= 0)
        return fail("job id '" + std::string(text) + "' is not a number like 42 or #42");
    return id;
}

CLI::Validator job_id_validator() {
    return CLI::Validator(
        [](std::string& text) {
            auto id = parse_job_id(text);
            return id ? std::string() : id.error().message;
        },
        "");
}

}  // namespace hostline::cli
