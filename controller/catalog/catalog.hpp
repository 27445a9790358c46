// The command catalog: every command declared in a directory of TOML files (commands.d).
//
//   auto catalog = Catalog::load("/etc/hostline/commands.d", config.groups);
//   if (!catalog) { print catalog.error().message; refuse to start; }
//   if (const CommandSpec* spec = catalog->find("restart-service")) ...
//
// docs/chat.md ("The catalog") describes the file format. A loaded Catalog is immutable, so
// any thread may read it. Pointers from find() and commands() live as long as the Catalog
// (moving it keeps them valid; copying does not carry them over).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/target/target_expr.hpp"
#include "controller/catalog/command_spec.hpp"

namespace hostline::controller {

class Catalog {
  public:
    // Scripts larger than this are refused.
    static constexpr std::size_t kMaxScriptBytes = 1024 * 1024;

    // Reads dir/*.toml in name order. Never throws. On any problem returns one error listing
    // every problem, one per line, each naming the file, the command and the key. A missing
    // directory is an error; an empty one is an empty catalog. `groups` expands @group in
    // the default and allowed targets.
    static Result<Catalog> load(const std::string& dir, const target::Groups& groups = {});

    // The command called name, or nullptr.
    const CommandSpec* find(std::string_view name) const;
    // Sorted by name.
    const std::vector<CommandSpec>& commands() const { return commands_; }

  private:
    std::vector<CommandSpec> commands_;
};

}  // namespace hostline::controller
