// The drain deadline every daemon arms on SIGTERM: past NONAXIS_DRAIN_TIMEOUT_SECONDS the
// process abandons in-flight work (each write is atomic, so nothing is half-written) and
// exits 75, whatever its main thread is doing. The graceful path (exit 0 within the
// timeout, under load) is tested end to end in tests/integration/state_test.py.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "nonaxis/bus/http_surface.hpp"

namespace nonaxis::bus {
namespace {

TEST(DrainDeadline, ExitsWithTheDrainTimeoutCodeWhenDrainingHangs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        arm_drain_deadline(std::chrono::seconds(1));
        std::this_thread::sleep_for(std::chrono::seconds(30));  // a drain that never finishes
        std::exit(0);
      },
      ::testing::ExitedWithCode(kExitDrainTimeout), "drain_timeout");
}

TEST(DrainDeadline, RejectsATimeoutOutsideItsRange) {
  ::setenv("NONAXIS_DRAIN_TIMEOUT_SECONDS", "7", 1);
  EXPECT_EQ(drain_timeout_from_env(), std::chrono::seconds(7));
  ::setenv("NONAXIS_DRAIN_TIMEOUT_SECONDS", "0", 1);
  EXPECT_THROW(drain_timeout_from_env(), std::exception);
  ::unsetenv("NONAXIS_DRAIN_TIMEOUT_SECONDS");
  EXPECT_EQ(drain_timeout_from_env(), std::chrono::seconds(20));
}

}  // namespace
}  // namespace nonaxis::bus
