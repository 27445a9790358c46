#include "controller/policy/policy_file.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"policy"};

namespace hostline::controller {

PolicyFile::PolicyFile(std::string path, target::Groups groups,
                       std::set<std::string> command_permissions, AuditTrail& audit, Post post)
    : path_(std::move(path)),
      groups_(std::move(groups)),
      command_permissions_(std::move(command_permissions)),
      audit_(audit),
      post_(std::move(post)),
      current_(std::make_shared<const Policy>()) {}

PolicyFile::~PolicyFile() {
    for (auto& [id, reader] : readers_) reader.join();
}

Result<Policy> PolicyFile::read() const {
    if (path_.empty())
        return fail("no policy file is configured ([controller] policy_file in controller.toml)");
    return Policy::load(path_, groups_, command_permissions_);
}

Result<void> PolicyFile::load() {
    auto policy = read();
    if (!policy) return policy.error();
    current_ = std::make_shared<const Policy>(std::move(*policy));
    return {};
}

void PolicyFile::reload(const std::string& actor, std::function<void(Result<void>)> done) {
    for (std::uint64_t id : delivered_) {
        readers_.at(id).join();
        readers_.erase(id);
    }
    delivered_.clear();
    const std::uint64_t id = next_reader_++;
    readers_[id] = std::thread([this, id, actor, done = std::move(done)]() mutable {
        auto policy = std::make_shared<Result<Policy>>(read());
        post_([this, id, actor, policy, done = std::move(done)] {
            delivered_.push_back(id);
            AuditEvent event{"policy.reloaded", actor, "policy:" + path_, {}};
            if (!*policy) {
                logger->error("reload refused, the policy in force stays:\n{}",
                              policy->error().message);
                event.detail["outcome"] = "refused";
                event.detail["errors"] = policy->error().message;
                audit_.record(std::move(event));
                return done(policy->error());
            }
            current_ = std::make_shared<const Policy>(std::move(policy->value()));
            logger->info("reloaded {}", path_);
            event.detail["outcome"] = "loaded";
            audit_.record(std::move(event));
            done({});
        });
    });
}

}  // namespace hostline::controller
