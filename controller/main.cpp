// hostline-controller: the central daemon agents connect to.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <set>
#include <string>

#include "common/log/log.hpp"
#include "common/log/module_logger.hpp"
#include "controller/app.hpp"
#include "controller/catalog/catalog.hpp"
#include "controller/config/controller_config.hpp"
#include "controller/hooks/hook_service.hpp"
#include "controller/maintenance.hpp"
#include "controller/policy/policy.hpp"

static constinit hostline::log::ModuleLogger logger{"controller"};

int main(int argc, char** argv) {
    CLI::App cli{"hostline-controller: schedules Hostline jobs on agents"};
    std::string config_path = "/etc/hostline/controller.toml";
    std::string log_level;
    bool check_config = false;
    cli.add_option("-c,--config", config_path, "Path to controller.toml")->capture_default_str();
    cli.add_option("--log-level", log_level,
                   "trace, debug, info, warn, error (overrides the config)");
    cli.add_flag("--check-config", check_config, "Validate the configuration and exit");
    cli.set_version_flag("--version", std::string("hostline-controller ") + HOSTLINE_VERSION);
    // Maintenance commands (controller/maintenance.hpp); without one, the daemon.
    auto* init = cli.add_subcommand(
        "init", "Create what is missing in data_dir and upgrade the database's schema");
    init->add_option("-c,--config", config_path, "Path to controller.toml");
    std::string backup_dest;
    bool backup_force = false;
    auto* backup =
        cli.add_subcommand("backup", "Copy the database (safe while the controller runs)");
    backup->add_option("DEST", backup_dest, "The file to write (0600)")->required();
    backup->add_option("-c,--config", config_path, "Path to controller.toml");
    backup->add_flag("--force", backup_force, "Replace DEST if it exists");
    CLI11_PARSE(cli, argc, argv);

    auto config = hostline::controller::load_controller_config(config_path);
    if (!config) {
        std::fprintf(stderr, "hostline-controller: invalid configuration:\n%s\n",
                     config.error().message.c_str());
        return 2;
    }
    if (init->parsed()) return hostline::controller::run_init(*config);
    if (backup->parsed())
        return hostline::controller::run_backup(*config, backup_dest, backup_force);
    if (check_config) {
        std::set<std::string> command_permissions;
        hostline::controller::Catalog catalog_for_hooks;
        if (!config->catalog_dir.empty()) {
            auto catalog = hostline::controller::Catalog::load(config->catalog_dir, config->groups);
            if (!catalog) {
                std::fprintf(stderr, "hostline-controller: invalid command catalog:\n%s\n",
                             catalog.error().message.c_str());
                return 2;
            }
            std::printf("%s: %zu command(s)\n", config->catalog_dir.c_str(),
                        catalog->commands().size());
            for (const auto& spec : catalog->commands())
                command_permissions.insert(spec.permission);
            catalog_for_hooks = std::move(*catalog);
        }
        if (auto hooks = hostline::controller::check_hooks(config->hooks, catalog_for_hooks,
                                                           config->irc.has_value());
            !hooks) {
            std::fprintf(stderr, "hostline-controller: invalid hooks:\n%s\n",
                         hooks.error().message.c_str());
            return 2;
        }
        if (!config->policy_file.empty()) {
            auto policy = hostline::controller::Policy::load(config->policy_file, config->groups,
                                                             command_permissions);
            if (!policy) {
                std::fprintf(stderr, "hostline-controller: invalid policy:\n%s\n",
                             policy.error().message.c_str());
                return 2;
            }
            std::printf("%s: ok\n", config->policy_file.c_str());
        } else {
            std::printf("no policy_file: only the admin API token may do anything\n");
        }
        std::printf("%s: ok\n", config_path.c_str());
        return 0;
    }
    // --log-level is every module's level at start, over [log] level; [log.modules] still apply.
    config->log.command_line_level = log_level;
    if (!log_level.empty()) config->log.level = log_level;
    if (auto logging = hostline::log::setup("controller", log_level.empty() ? "info" : log_level);
        !logging) {
        std::fprintf(stderr, "hostline-controller: %s\n", logging.error().message.c_str());
        return 2;
    }
    hostline::log::apply(hostline::log::Program::controller, config->log);
    if (!config->log.deprecation.empty()) logger->warn("{}", config->log.deprecation);
    hostline::controller::App app(std::move(*config));
    if (auto started = app.start(); !started) {
        logger->critical("{}", started.error().message);
        return 1;
    }
    return app.run();
}
