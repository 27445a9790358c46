#include "controller/jobs/approval.hpp"

#include <array>
#include <utility>

namespace hostline::controller {
namespace {

constexpr std::array<std::pair<ApprovalState, std::string_view>, 4> kStates{{
    {ApprovalState::pending, "pending"},
    {ApprovalState::granted, "granted"},
    {ApprovalState::denied, "denied"},
    {ApprovalState::expired, "expired"},
}};

}  // namespace

std::string_view to_string(ApprovalState state) {
    for (const auto& [s, name] : kStates)
        if (s == state) return name;
    return "pending";  // unreachable: every enumerator is in the table
}

std::optional<ApprovalState> parse_approval_state(std::string_view text) {
    for (const auto& [s, name] : kStates)
        if (name == text) return s;
    return std::nullopt;
}

}  // namespace hostline::controller
