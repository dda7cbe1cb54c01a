// The spent-nonce log: durable, race-free, and it survives a restart.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/sandbox/nonce_store.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

TEST(SandboxNonceStore, SecondSpendIsReplay) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(s.spend(n, bus::uuid_v4(), "2030-01-01T00:00:00+00:00", now), SpendResult::kSpent);
  EXPECT_EQ(s.spend(n, bus::uuid_v4(), "2030-01-01T00:00:00+00:00", now), SpendResult::kReplayed);
}

TEST(SandboxNonceStore, SurvivesRestart) {
  testing::TempDir d;
  const auto n = bus::uuid_v4();
  const auto now = std::chrono::system_clock::now();
  {
    NonceStore s(d.path() / "nonces");
    ASSERT_EQ(s.spend(n, bus::uuid_v4(), "2030-01-01T00:00:00+00:00", now), SpendResult::kSpent);
  }
  NonceStore reopened(d.path() / "nonces");  // a new process would see exactly this
  EXPECT_TRUE(reopened.is_spent(n));
  EXPECT_EQ(reopened.spend(n, bus::uuid_v4(), "2030-01-01T00:00:00+00:00", now), SpendResult::kReplayed);
}

TEST(SandboxNonceStore, ConcurrentSpendHasOneWinner) {
  testing::TempDir d;
  const auto dir = d.path() / "nonces";
  NonceStore init(dir);
  const auto n = bus::uuid_v4();
  std::vector<pid_t> kids;
  for (int i = 0; i < 6; ++i) {
    const pid_t p = ::fork();
    if (p == 0) {
      NonceStore s(dir);
      ::_exit(s.spend(n, "t", "2030-01-01T00:00:00+00:00", std::chrono::system_clock::now()) == SpendResult::kSpent ? 0 : 1);
    }
    kids.push_back(p);
  }
  int winners = 0;
  for (pid_t p : kids) {
    int st = 0;
    ::waitpid(p, &st, 0);
    winners += (WIFEXITED(st) && WEXITSTATUS(st) == 0) ? 1 : 0;
  }
  EXPECT_EQ(winners, 1);
}

TEST(SandboxNonceStore, RejectsNonUuidNonce) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  EXPECT_THROW(s.spend("../../etc/passwd", "t", "x", std::chrono::system_clock::now()), std::invalid_argument);
}

TEST(SandboxNonceStore, PruneForgetsOnlyLongExpired) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto old_n = bus::uuid_v4(), live_n = bus::uuid_v4();
  const auto now = std::chrono::system_clock::now();
  s.spend(old_n, "t", "2001-01-01T00:00:00+00:00", now);
  s.spend(live_n, "t", "2099-01-01T00:00:00+00:00", now);
  EXPECT_EQ(s.prune(now, std::chrono::seconds(60)), 1U);
  EXPECT_FALSE(s.is_spent(old_n));
  EXPECT_TRUE(s.is_spent(live_n));
}

}  // namespace
}  // namespace nonaxis::sandbox
