#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "scratch_dir.hpp"

namespace nonaxis::bus {
namespace {

class QueueReader : public ::testing::Test {
 protected:
  void SetUp() override { write_new_file(dir.get(), "ok.json", "{}"); }
  ReadResult read(const std::string& name, ReadPolicy p = {}) { return read_queue_file(dir.get(), name, p); }
  nonaxis::testing::ScratchDir scratch;
  std::string path = scratch.str();
  UniqueFd dir = open_dir(path);
};

TEST_F(QueueReader, AcceptsARegularSingleLinkFile) {
  const auto r = read("ok.json", {kMaxMessageBytes, ::geteuid()});
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.data, "{}");
}

TEST_F(QueueReader, MissingIsNotARefusal) { EXPECT_EQ(read("nope.json").status, ReadResult::Status::kMissing); }

TEST_F(QueueReader, RefusesSymlinks) {
  ASSERT_EQ(::symlink("/etc/passwd", (path + "/link.json").c_str()), 0);
  EXPECT_EQ(read("link.json").reason, "symlink");
}

TEST_F(QueueReader, RefusesHardlinks) {
  ASSERT_EQ(::link((path + "/ok.json").c_str(), (path + "/hl.json").c_str()), 0);
  EXPECT_EQ(read("hl.json").reason, "hardlinked");
}

TEST_F(QueueReader, RefusesFifosWithoutBlocking) {
  ASSERT_EQ(::mkfifo((path + "/fifo.json").c_str(), 0600), 0);
  EXPECT_EQ(read("fifo.json").reason, "not_regular");
}

TEST_F(QueueReader, RefusesDirectories) {
  ASSERT_EQ(::mkdir((path + "/d.json").c_str(), 0700), 0);
  EXPECT_EQ(read("d.json").status, ReadResult::Status::kRefused);
}

TEST_F(QueueReader, RefusesOversizedFiles) {
  write_new_file(dir.get(), "big.json", std::string(2048, 'x'));
  EXPECT_EQ(read("big.json", {1024, std::nullopt}).reason, "oversized");
}

TEST_F(QueueReader, RefusesTheWrongOwner) { EXPECT_EQ(read("ok.json", {kMaxMessageBytes, ::geteuid() + 1}).reason, "wrong_owner"); }

TEST_F(QueueReader, ListingSkipsTempsAndDotfiles) {
  write_new_file(dir.get(), ".tmp-x", "");
  EXPECT_EQ(list_names(dir.get()), std::vector<std::string>{"ok.json"});
}

}  // namespace
}  // namespace nonaxis::bus
