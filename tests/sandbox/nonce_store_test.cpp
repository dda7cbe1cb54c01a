// The spent-nonce log: durable, race-free, and it survives a restart.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nonaxis/bus/clock.hpp"
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

// Marks for tokens that expired in 2001 (spent back then) and tokens valid until 2099.
void spend_old_and_live(NonceStore& s, std::vector<std::string>& old_n, std::vector<std::string>& live_n, int n_old,
                        int n_live) {
  const auto then = *bus::parse_rfc3339("2000-12-31T23:00:00+00:00");
  for (int i = 0; i < n_old; ++i) {
    old_n.push_back(bus::uuid_v4());
    ASSERT_EQ(s.spend(old_n.back(), "t", "2001-01-01T00:00:00+00:00", then), SpendResult::kSpent);
  }
  for (int i = 0; i < n_live; ++i) {
    live_n.push_back(bus::uuid_v4());
    ASSERT_EQ(s.spend(live_n.back(), "t", "2099-01-01T00:00:00+00:00", std::chrono::system_clock::now()),
              SpendResult::kSpent);
  }
}

TEST(SandboxNonceStore, PruneForgetsOnlyLongExpired) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  std::vector<std::string> old_n, live_n;
  spend_old_and_live(s, old_n, live_n, 1, 1);
  EXPECT_EQ(s.prune(std::chrono::system_clock::now(), std::chrono::seconds(60)), 1U);
  EXPECT_FALSE(s.is_spent(old_n[0]));
  EXPECT_TRUE(s.is_spent(live_n[0]));
}

TEST(SandboxNonceStore, MarkCarriesItsExpiryAsMtime) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  ASSERT_EQ(s.spend(n, "t", "2099-01-01T00:00:00+00:00", std::chrono::system_clock::now()), SpendResult::kSpent);
  struct stat st {};
  ASSERT_EQ(::stat((d.path() / "nonces" / (n + ".spent")).c_str(), &st), 0);
  EXPECT_GE(st.st_mtim.tv_sec, 4070908800);  // 2099-01-01T00:00:00Z
}

// The expiry is checked again under the store's lock: a token that expired between
// verification and spending is refused and leaves no mark (prune relies on this).
TEST(SandboxNonceStore, ExpiredAtSpendTimeIsRefused) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  const auto exp = *bus::parse_rfc3339("2020-01-01T00:00:00+00:00");
  EXPECT_EQ(s.spend(n, "t", "2020-01-01T00:00:00+00:00", exp + std::chrono::seconds(6), std::chrono::seconds(5)),
            SpendResult::kExpired);
  EXPECT_FALSE(s.is_spent(n));
  EXPECT_EQ(s.spend(n, "t", "2020-01-01T00:00:00+00:00", exp + std::chrono::seconds(5), std::chrono::seconds(5)),
            SpendResult::kSpent);
}

// A pruner killed at arbitrary moments never loses the mark of an unexpired token,
// and a replay of such a token is refused by a fresh store (a restart) afterwards.
TEST(SandboxNonceStore, PruneKilledAtAnyMomentKeepsEveryLiveNonce) {
  testing::TempDir d;
  const auto dir = d.path() / "nonces";
  std::vector<std::string> old_n, live_n;
  {
    NonceStore s(dir);
    spend_old_and_live(s, old_n, live_n, 300, 40);
  }
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      NonceStore s(dir);
      s.prune(std::chrono::system_clock::now(), std::chrono::seconds(60));
      ::_exit(0);
    }
    ::usleep(static_cast<useconds_t>(round * 150));  // from "before it starts" to "mid-scan"
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    NonceStore restarted(dir);
    for (const auto& n : live_n) ASSERT_TRUE(restarted.is_spent(n)) << "round " << round;
  }
  NonceStore restarted(dir);
  restarted.prune(std::chrono::system_clock::now(), std::chrono::seconds(60));
  for (const auto& n : old_n) EXPECT_FALSE(restarted.is_spent(n));
  for (const auto& n : live_n) {
    EXPECT_EQ(restarted.spend(n, "t", "2099-01-01T00:00:00+00:00", std::chrono::system_clock::now()),
              SpendResult::kReplayed);
  }
}

// A mark whose bytes were lost in a crash (only the name and mtime are synced) still
// blocks its nonce, and is pruned by its mtime once expired.
TEST(SandboxNonceStore, TornMarkStillBlocksAndPrunesByMtime) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  ASSERT_EQ(s.spend(n, "t", "2099-01-01T00:00:00+00:00", std::chrono::system_clock::now()), SpendResult::kSpent);
  const auto mark = d.path() / "nonces" / (n + ".spent");
  ::truncate(mark.c_str(), 0);
  const timespec future[2] = {{4070908801, 0}, {4070908801, 0}};
  ::utimensat(AT_FDCWD, mark.c_str(), future, 0);
  EXPECT_EQ(s.spend(n, "t", "2099-01-01T00:00:00+00:00", std::chrono::system_clock::now()), SpendResult::kReplayed);
  EXPECT_EQ(s.prune(std::chrono::system_clock::now(), std::chrono::seconds(60)), 0U);
  const timespec past[2] = {{978307200, 0}, {978307200, 0}};  // 2001
  ::utimensat(AT_FDCWD, mark.c_str(), past, 0);
  EXPECT_EQ(s.prune(std::chrono::system_clock::now(), std::chrono::seconds(60)), 1U);
}

TEST(SandboxNonceStore, PruneIfDueRunsAtMostOncePerInterval) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  std::vector<std::string> old_n, live_n;
  spend_old_and_live(s, old_n, live_n, 2, 0);
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(s.prune_if_due(now, std::chrono::seconds(60), std::chrono::seconds(600)), 2U);
  spend_old_and_live(s, old_n, live_n, 1, 0);
  EXPECT_EQ(s.prune_if_due(now, std::chrono::seconds(60), std::chrono::seconds(600)), 0U);  // not due yet
  EXPECT_EQ(s.prune_if_due(now + std::chrono::seconds(601), std::chrono::seconds(60), std::chrono::seconds(600)), 1U);
}

// The launcher commits the claim's fsync while the child builds its view: between
// claim and commit the nonce is already taken, and a prune cannot run.
TEST(SandboxNonceStore, ClaimTakesTheNonceBeforeItsCommit) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  const auto now = std::chrono::system_clock::now();
  SpendClaim c = s.claim(n, "t", "2030-01-01T00:00:00+00:00", now);
  ASSERT_EQ(c.result, SpendResult::kSpent);
  EXPECT_TRUE(s.is_spent(n));
  EXPECT_EQ(s.spend(n, "t2", "2030-01-01T00:00:00+00:00", now), SpendResult::kReplayed);
  // The claim holds the store's shared lock: a due prune skips instead of racing it.
  EXPECT_EQ(s.prune_if_due(now + std::chrono::hours(24 * 365 * 10), std::chrono::seconds(60), std::chrono::seconds(1)),
            0U);
  EXPECT_TRUE(s.is_spent(n));
  c.commit();
  EXPECT_FALSE(c.held_lock.valid());
  EXPECT_EQ(s.prune_if_due(now + std::chrono::hours(24 * 365 * 10), std::chrono::seconds(60), std::chrono::seconds(1)),
            1U);
}

TEST(SandboxNonceStore, ClaimOfAnExpiredTokenMarksNothing) {
  testing::TempDir d;
  NonceStore s(d.path() / "nonces");
  const auto n = bus::uuid_v4();
  SpendClaim c = s.claim(n, "t", "2001-01-01T00:00:00+00:00", std::chrono::system_clock::now());
  EXPECT_EQ(c.result, SpendResult::kExpired);
  c.commit();  // a no-op for anything but kSpent
  EXPECT_FALSE(s.is_spent(n));
}

}  // namespace
}  // namespace nonaxis::sandbox
