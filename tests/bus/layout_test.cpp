// Role directories handed to a role's user appear only with their final owner and
// mode: a daemon of another role starting at the same moment never finds one that
// still belongs to root (it would be refused and stop).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "nonaxis/bus/layout.hpp"
#include "privileged.hpp"
#include "scratch_dir.hpp"

namespace nonaxis::bus {
namespace {

constexpr uid_t kUid = 65534;
constexpr gid_t kGid = 65534;

TEST(Layout, HandedOverDirectoryNeverAppearsAsRoots) {
  NONAXIS_REQUIRE_ROOT();
  const RunAs nobody{kUid, kGid, "nobody"};
  for (int round = 0; round < 200; ++round) {
    nonaxis::testing::ScratchDir scratch;
    const Layout layout{scratch.str()};
    std::atomic<bool> done{false}, watching{false};
    std::atomic<int> seen_wrong{0};
    std::thread watcher([&] {
      struct stat st {};
      while (!done.load()) {
        watching = true;
        if (::lstat(layout.assessments().c_str(), &st) == 0 &&
            (st.st_uid != kUid || st.st_gid != kGid || (st.st_mode & 0777) != 0750)) {
          seen_wrong.fetch_add(1);
        }
      }
    });
    while (!watching.load()) std::this_thread::yield();  // the watcher must already be looking
    prepare_role_dirs(layout, Role::kCiso, nobody);
    done = true;
    watcher.join();
    EXPECT_EQ(seen_wrong.load(), 0) << "round " << round;
    struct stat st {};
    ASSERT_EQ(::lstat(layout.assessments().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, kUid);
    EXPECT_EQ(st.st_mode & 0777, 0750U);
    for (const auto& e : std::filesystem::directory_iterator(layout.base)) {
      EXPECT_EQ(e.path().filename().string().find(".new-"), std::string::npos) << e.path();
    }
  }
}

TEST(Layout, PreparingTwiceKeepsTheDirectoryAndItsOwner) {
  NONAXIS_REQUIRE_ROOT();
  nonaxis::testing::ScratchDir scratch;
  const Layout layout{scratch.str()};
  const RunAs nobody{kUid, kGid, "nobody"};
  prepare_role_dirs(layout, Role::kArbiter, nobody);
  const auto marker = layout.decisions() + "/kept";
  ASSERT_TRUE(std::filesystem::create_directory(marker));
  prepare_role_dirs(layout, Role::kArbiter, nobody);
  EXPECT_TRUE(std::filesystem::exists(marker));
  struct stat st {};
  ASSERT_EQ(::lstat(layout.decisions().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kUid);
}

}  // namespace
}  // namespace nonaxis::bus
