// Target expressions: which agents a job runs on (`--on`, catalog default targets, groups).
//
//   web-01            the agent named web-01
//   web-*  db-0[12]   a glob on the name (fnmatch(3) with no flags: * ? [abc] [!abc])
//   role=web          a label equal to a value; the value may be a glob (role=web*)
//   env!=prod         the label missing, or not matching the glob
//   @databases        a named group from config: its expression, parsed in place
//   *                 every agent
//   a & b   a , b   !a   ( ... )    AND, OR, NOT; `!` binds tightest, then `&`, then `,`
//
// Names, label keys and values use letters, digits and `-_.:/`, plus `*?[]` where a glob is
// allowed (names and label values; not label keys or group names). Whitespace around
// operators is ignored.
//
// A parsed TargetExpr is immutable, owns its copy of everything it needs (groups are
// expanded at parse time) and may be used from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace hostline::target {

// What an expression is matched against: an agent's name and labels.
struct Host {
    std::string name;
    std::map<std::string, std::string> labels;
};

// Group name (without the `@`) -> target expression text, from config.
using Groups = std::map<std::string, std::string>;

class TargetExpr {
  public:
    // Inputs longer than this, or nested deeper than this ('(', '!' and groups each count
    // one level), are refused with an error.
    static constexpr std::size_t kMaxLength = 4096;
    static constexpr int kMaxDepth = 64;
    // Groups are expanded in place; an expression expanding to more terms than this (groups
    // that use each other many times over) is refused rather than built.
    static constexpr std::size_t kMaxTerms = 16384;

    // Parses text, expanding `@group` references from groups. Never throws. An error reads
    // "target 'TEXT': what was wrong at column N", columns counting bytes from 1; an error
    // inside a group's expression names the group and the column within its text. An
    // unknown group, or a group that refers to itself directly or through others, is an
    // error (the latter names the cycle: "@a -> @b -> @a").
    static Result<TargetExpr> parse(std::string_view text, const Groups& groups = {});

    bool matches(const Host& host) const;

    // The text this was parsed from, as given.
    const std::string& text() const { return text_; }

  private:
    class Parser;

    enum class Kind { Name, LabelMatches, LabelDiffers, Not, And, Or };
    struct Node {
        Kind kind;
        // Label*: the label's key. Name: empty.
        std::string key;
        // Name: the name or a glob on it. Label*: the value or a glob on it.
        std::string pattern;
        // Not: one child. And, Or: two or more. Children come before their parent in nodes_.
        std::vector<std::size_t> children;
    };

    TargetExpr() = default;
    bool eval(std::size_t index, const Host& host) const;

    std::string text_;
    std::vector<Node> nodes_;
    std::size_t root_ = 0;
};

}  // namespace hostline::target
