// Hand-written hard cases (tests/ciso/cases/*.jsonl): evasive malicious samples that must be
// flagged (score >= 50) and benign look-alikes that must stay below 50.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace nonaxis::ciso::testing {
namespace {

struct Case {
  std::string id;
  std::string label;
  std::string content;
  bool is_command = true;
};

std::vector<Case> load_cases() {
  std::vector<Case> out;
  for (const auto& e : std::filesystem::directory_iterator(NONAXIS_CISO_CASES_DIR)) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream f(e.path());
    std::string line;
    while (std::getline(f, line)) {
      if (line.empty()) continue;
      const auto j = nlohmann::json::parse(line);
      out.push_back({j["id"], j["label"], j["content"], j.value("is_command", example_is_command(j["content"]))});
    }
  }
  return out;
}

class HardCases : public ::testing::TestWithParam<Case> {};

TEST_P(HardCases, Classified) {
  const Case& c = GetParam();
  const auto a = run(c.content, c.is_command);
  const int s = a["risk_score"].get<int>();
  if (c.label == "malicious") {
    EXPECT_GE(s, 50) << c.id << "\n" << c.content << "\nfindings: " << rule_ids(a);
  } else {
    EXPECT_LT(s, 50) << c.id << "\n" << c.content << "\nfindings: " << rule_ids(a);
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n;
  for (char ch : info.param.id) n.push_back(std::isalnum(static_cast<unsigned char>(ch)) != 0 ? ch : '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, HardCases, ::testing::ValuesIn(load_cases()), case_name);

}  // namespace
}  // namespace nonaxis::ciso::testing
