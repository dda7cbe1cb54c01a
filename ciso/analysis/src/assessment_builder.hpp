#pragma once
// Turns evidence into the assessment payload: checklist, findings, concerns, an explainable
// risk score, and a recommendation that matches the Arbiter's default score bands.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"

namespace nonaxis::ciso::detail {

struct BuildInput {
  const Evidence& evidence;
  std::string_view content;
  std::string_view context;
  const std::vector<std::string>& declared_hosts;
  std::string_view action_type;
  bool explain = false;
};

nlohmann::json build_assessment(const BuildInput& in);

// Payload used whenever analysis cannot complete: maximum risk, reject.
nlohmann::json fail_closed_assessment(const std::string& reason);

// Score bands shared with the default Arbiter policy.
const char* recommendation_for(int score);

bool host_declared(const std::string& host, int port, const std::vector<std::string>& declared);

}  // namespace nonaxis::ciso::detail
