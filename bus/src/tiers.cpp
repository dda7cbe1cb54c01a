#include "nonaxis/bus/tiers.hpp"

#include <array>
#include <utility>

namespace nonaxis::bus {
namespace {
constexpr std::array<std::pair<std::string_view, int>, 18> kTiers{{
    {"read", 0}, {"search", 0}, {"web_search", 0}, {"list", 0},
    {"workspace_write", 1}, {"file_write", 1}, {"exec_allowlisted", 1}, {"message", 1}, {"write", 1},
    {"exec_unfamiliar", 2}, {"outbound_network", 2}, {"memory_modify", 2},
    {"skill_install", 3}, {"skill_update", 3}, {"credential_access", 3}, {"self_modify", 3}, {"prompt_modify", 3},
    {"inference_runner", 3},
}};
}  // namespace

std::optional<int> tier_of(std::string_view action_type) {
  for (const auto& [name, tier] : kTiers) {
    if (name == action_type) return tier;
  }
  return std::nullopt;
}

bool is_reviewed_action(std::string_view action_type) {
  const auto t = tier_of(action_type);
  return t && *t >= 2;
}

}  // namespace nonaxis::bus
