#pragma once
// Privileged tests may skip only when the privilege is truly absent, and never when
// NONAXIS_REQUIRE_PRIVILEGED=1 (CI sets it): there a missing privilege is a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace nonaxis::testing {

inline bool privileged_required() {
  const char* v = std::getenv("NONAXIS_REQUIRE_PRIVILEGED");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

inline bool running_as_root() { return geteuid() == 0; }

}  // namespace nonaxis::testing

// Use at the top of a TEST body: `NONAXIS_REQUIRE_ROOT();`
#define NONAXIS_REQUIRE_ROOT()                                                                  \
  do {                                                                                          \
    if (!::nonaxis::testing::running_as_root()) {                                               \
      if (::nonaxis::testing::privileged_required()) FAIL() << "root required but not present"; \
      GTEST_SKIP() << "needs root";                                                             \
    }                                                                                           \
  } while (0)

// For any other capability probe: `NONAXIS_REQUIRE_CAPABILITY(ok, "why")`.
#define NONAXIS_REQUIRE_CAPABILITY(ok, why)                                                          \
  do {                                                                                               \
    if (!(ok)) {                                                                                     \
      if (::nonaxis::testing::privileged_required()) FAIL() << "required privilege absent: " << why; \
      GTEST_SKIP() << "privilege absent: " << why;                                                   \
    }                                                                                                \
  } while (0)
