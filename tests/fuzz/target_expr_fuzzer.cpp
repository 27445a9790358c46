// libFuzzer target: a target expression as a chat user types it after --on, through
// TargetExpr::parse with config groups, then matched against a few hosts.
//
// Besides not crashing, an expression that parses must keep its text, and its negation
// "!(TEXT)" must match exactly the hosts it does not (when that still parses: the negation
// is two levels deeper and three characters longer). A mismatch aborts, so the fuzzer
// reports it like a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/target/target_expr.hpp"

namespace {

using namespace hostline::target;

// Groups as a controller.toml could hold them: plain ones, groups using groups, a chain as
// deep as a config would go, and a cycle (which must be an error, not a hang).
const Groups& groups() {
    static const Groups kGroups{
        {"databases", "db-* , role=db"},
        {"web", "role=web & env!=dev"},
        {"prod", "env=prod"},
        {"prod-web", "@web & @prod"},
        {"everything", "@prod-web , @databases , !(@prod)"},
        {"g1", "@g2 , a"},
        {"g2", "@g3 & b*"},
        {"g3", "!@g4"},
        {"g4", "role=[a-z]*"},
        {"loop-a", "@loop-b"},
        {"loop-b", "x , @loop-a"},
    };
    return kGroups;
}

const std::vector<Host>& hosts() {
    static const std::vector<Host> kHosts{
        {"web-01", {{"role", "web"}, {"env", "prod"}}},
        {"db-02", {{"role", "db"}, {"env", "staging"}}},
        {"db_1.eu-west.example.com", {{"rack", "4/slot_2"}}},
        {"", {}},
        {"b", {{"role", ""}, {"env", "dev"}}},
    };
    return kHosts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto expr = TargetExpr::parse(text, groups());
    if (!expr) {
        if (expr.error().message.empty()) std::abort();  // an error must say what was wrong
        return 0;
    }
    if (expr->text() != text) std::abort();
    auto negated = TargetExpr::parse("!(" + std::string(text) + ")", groups());
    for (const Host& host : hosts()) {
        const bool matched = expr->matches(host);
        if (negated && negated->matches(host) == matched) {
            std::fprintf(stderr, "'%s' and its negation agree on host '%s'\n",
                         std::string(text).c_str(), host.name.c_str());
            std::abort();
        }
    }
    return 0;
}
