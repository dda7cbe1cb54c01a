#include <gtest/gtest.h>
#include <stdlib.h>

#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {
namespace {

TEST(Keys, RefusesMissingEmptyDefaultAndShortKeys) {
  ::unsetenv("NONAXIS_TEST_KEY");
  EXPECT_THROW(KeyRing::from_env("NONAXIS_TEST_KEY"), ConfigError);
  ::setenv("NONAXIS_TEST_KEY", "", 1);
  EXPECT_THROW(KeyRing::from_env("NONAXIS_TEST_KEY"), ConfigError);
  ::setenv("NONAXIS_TEST_KEY", "CHANGE-ME-OPERATOR-0123456789012345678901234", 1);
  EXPECT_THROW(KeyRing::from_env("NONAXIS_TEST_KEY"), ConfigError);
  ::setenv("NONAXIS_TEST_KEY", "p4ssw0rd", 1);
  try {
    KeyRing::from_env("NONAXIS_TEST_KEY");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("NONAXIS_TEST_KEY"), std::string::npos) << "the error names the variable";
    EXPECT_EQ(std::string(e.what()).find("p4ssw0rd"), std::string::npos) << "the error never prints the key";
  }
}

TEST(Keys, AcceptsAStrongKeyAndAPreviousOneForRotation) {
  ::setenv("NONAXIS_TEST_KEY", "0123456789abcdef0123456789abcdef", 1);
  ::setenv("NONAXIS_TEST_KEY_PREVIOUS", "fedcba9876543210fedcba9876543210", 1);
  const auto ring = KeyRing::from_env("NONAXIS_TEST_KEY");
  EXPECT_EQ(ring.current().kid, key_id("0123456789abcdef0123456789abcdef"));
  EXPECT_NE(ring.find(key_id("fedcba9876543210fedcba9876543210")), nullptr);
  EXPECT_EQ(ring.find("k-0000000000000000"), nullptr);
  ::unsetenv("NONAXIS_TEST_KEY_PREVIOUS");
}

}  // namespace
}  // namespace nonaxis::bus
