#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <atomic>
#include <filesystem>
#include <thread>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/group_commit.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "scratch_dir.hpp"

namespace nonaxis::bus {
namespace {

class TempDir : public ::testing::Test {
 protected:
  std::string read(const std::string& name) { return read_whole_file(path + "/" + name, 1 << 20); }
  nonaxis::testing::ScratchDir scratch;
  std::string path = scratch.str();
  UniqueFd dir = open_dir(path);
};

TEST_F(TempDir, CreatesFileWithContentAndMode) {
  EXPECT_EQ(write_new_file(dir.get(), "a.json", "hello", 0640), WriteOutcome::kCreated);
  EXPECT_EQ(read("a.json"), "hello");
  struct stat st {};
  ASSERT_EQ(::stat((path + "/a.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(TempDir, DuplicateWriteIsDetectedNotApplied) {
  ASSERT_EQ(write_new_file(dir.get(), "a.json", "first"), WriteOutcome::kCreated);
  EXPECT_EQ(write_new_file(dir.get(), "a.json", "second"), WriteOutcome::kAlreadyExists);
  EXPECT_EQ(read("a.json"), "first");
  EXPECT_EQ(list_names(dir.get()).size(), 1u) << "no temp file may be left behind";
}

TEST_F(TempDir, BatchCommitPublishesAllAndReportsDuplicates) {
  ASSERT_EQ(write_new_file(dir.get(), "b.json", "old"), WriteOutcome::kCreated);
  BatchWriter b;
  b.add(dir.get(), "a.json", "A");
  b.add(dir.get(), "b.json", "B");
  b.add(dir.get(), "c.json", "C");
  const auto out = b.commit();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], WriteOutcome::kCreated);
  EXPECT_EQ(out[1], WriteOutcome::kAlreadyExists);
  EXPECT_EQ(read("b.json"), "old");
  EXPECT_EQ(read("c.json"), "C");
}

TEST_F(TempDir, StaleTempsOfACrashedWriterAreRemoved) {
  ASSERT_EQ(write_new_file(dir.get(), ".tmp-deadbeef", "partial"), WriteOutcome::kCreated);
  remove_stale_temps(dir.get());
  struct stat st {};
  EXPECT_NE(::stat((path + "/.tmp-deadbeef").c_str(), &st), 0);
}

TEST_F(TempDir, AppendLogCutsATornTail) {
  ASSERT_EQ(write_new_file(dir.get(), "log.jsonl", "{\"a\":1}\n{\"b\":"), WriteOutcome::kCreated);
  std::vector<std::string> lines;
  AppendLog log(path + "/log.jsonl", &lines);
  EXPECT_EQ(lines.size(), 1u);
  EXPECT_EQ(log.torn_bytes_removed(), 5u);
  log.append({"{\"c\":3}"});
  log.sync();
  EXPECT_EQ(read("log.jsonl"), "{\"a\":1}\n{\"c\":3}\n");
}

TEST_F(TempDir, ReplaceFileSwapsAtomically) {
  replace_file(dir.get(), "head", "1", true);
  replace_file(dir.get(), "head", "2", true);
  EXPECT_EQ(read("head"), "2");
  EXPECT_EQ(list_names(dir.get()).size(), 1u);
}

}  // namespace
}  // namespace nonaxis::bus


namespace nonaxis::bus {
namespace {

TEST_F(TempDir, GroupCommitCreatesEveryFileOnceAcrossThreads) {
  GroupCommitter gc(path);
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, duplicates{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        // Threads 0 and 1 race on the same names: exactly one of each pair wins.
        const std::string name = (t < 2 ? "shared" : "t" + std::to_string(t)) + "-" + std::to_string(i) + ".json";
        if (gc.write(name, "x") == WriteOutcome::kCreated) {
          created.fetch_add(1);
        } else {
          duplicates.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 15 * 20);
  EXPECT_EQ(duplicates.load(), 20);
  EXPECT_EQ(list_names(dir.get()).size(), 300u);
}

}  // namespace
}  // namespace nonaxis::bus
