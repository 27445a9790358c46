// hostline-agent: runs what the controller sends on this host.
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <cstdio>

#include "agent/agent.hpp"
#include "agent/agent_config.hpp"
#include "agent/enrollment.hpp"
#include "agent/enrollment_file.hpp"
#include "agent/service_start.hpp"
#include "common/log/log.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"agent"};

int main(int argc, char** argv) {
    CLI::App app{"hostline-agent: runs Hostline jobs on this host"};
    std::string config_path = "/etc/hostline/agent.toml";
    std::string log_level = "info";
    bool check_config = false;
    app.add_option("-c,--config", config_path, "Path to agent.toml")->capture_default_str();
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->capture_default_str();
    app.add_flag("--check-config", check_config, "Validate the configuration and exit");
    app.set_version_flag("--version", std::string("hostline-agent ") + HOSTLINE_VERSION);

    hostline::agent::EnrollRequest enroll;
    bool no_start = false;
    auto* enroll_command = app.add_subcommand(
        "enroll",
        "Join this host to a controller with an enrollment token, keep the enrollment in the "
        "state directory, and start the agent's service");
    enroll_command
        ->add_option("token", enroll.token, "The token from `hostline agents token create`")
        ->required();
    enroll_command->add_option("--name", enroll.name,
                               "This agent's name (default: agent.toml's, else the host name)");
    enroll_command->add_option("-c,--config", enroll.config_path, "The agent.toml the agent reads")
        ->capture_default_str();
    enroll_command->add_option("--state-dir", enroll.state_dir,
                               "Where the agent keeps its keys (default: agent.toml's state_dir)");
    enroll_command->add_flag("--force", enroll.force, "Replace an existing enrollment");
    enroll_command->add_flag("--no-start", no_start, "Do not start the agent's service");
    CLI11_PARSE(app, argc, argv);

    if (*enroll_command) {
        if (auto logging = hostline::log::setup("agent", "warn"); !logging) {
            std::fprintf(stderr, "hostline-agent: %s\n", logging.error().message.c_str());
            return 2;
        }
        auto enrolled = hostline::agent::enroll(enroll);
        if (!enrolled) {
            std::fprintf(stderr, "hostline-agent: enrollment failed: %s\n",
                         enrolled.error().message.c_str());
            return 1;
        }
        for (const std::string& warning : enrolled->warnings)
            std::fprintf(stderr, "hostline-agent: warning: %s\n", warning.c_str());
        std::printf("enrolled as %s (key %s); kept in %s\n", enrolled->name.c_str(),
                    enrolled->fingerprint.c_str(), enrolled->enrollment_path.c_str());
        if (no_start) {
            std::printf(
                "not started (--no-start): systemctl enable --now hostline-agent, or "
                "hostline-agent --config %s\n",
                enroll.config_path.c_str());
            return 0;
        }
        auto started = hostline::agent::start_agent_service({}, enroll.config_path);
        if (!started) {
            std::fprintf(stderr,
                         "hostline-agent: the agent is enrolled (kept in %s) but was not "
                         "started: %s\n",
                         enrolled->enrollment_path.c_str(), started.error().message.c_str());
            return 3;
        }
        std::printf("%s\n", started->c_str());
        return 0;
    }

    auto config = hostline::agent::load_agent_config(config_path);
    if (!config) {
        std::fprintf(stderr, "hostline-agent: invalid configuration:\n%s\n",
                     config.error().message.c_str());
        return 2;
    }
    if (check_config) {
        std::printf("%s: ok; controller %s from %s\n", config_path.c_str(),
                    config->controller_endpoint.c_str(), config->controller_source.c_str());
        struct stat st {};
        const std::string enrollment = hostline::agent::enrollment_path(config->state_dir);
        if (config->controller_source != enrollment && ::stat(enrollment.c_str(), &st) == 0)
            std::printf("%s is not used: %s has its own [controller] section\n", enrollment.c_str(),
                        config_path.c_str());
        return 0;
    }
    if (auto logging = hostline::log::setup("agent", log_level); !logging) {
        std::fprintf(stderr, "hostline-agent: %s\n", logging.error().message.c_str());
        return 2;
    }
    // --log-level, when given, is every module's level at start, over [log] level.
    if (app.count("--log-level") > 0)
        config->log.level = config->log.command_line_level = log_level;
    hostline::log::apply(hostline::log::Program::agent, config->log);
    hostline::agent::Agent agent(std::move(*config));
    if (auto started = agent.start(); !started) {
        logger->critical("{}", started.error().message);
        return 1;
    }
    return agent.run();
}
