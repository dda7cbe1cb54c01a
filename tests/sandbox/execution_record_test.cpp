// The execution-record log: each record is chained to the previous line, a torn last
// line (a crash mid-append, never acknowledged) is cut before the next append, and a
// line longer than the first tail window (64 KiB) is still found.
#include <gtest/gtest.h>

#include <fstream>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/sandbox/execution_record.hpp"
#include "sandbox_harness.hpp"

namespace nonaxis::sandbox {
namespace {

const bus::Key& record_key() {
  static const bus::KeyRing ring = bus::KeyRing::from_secret("S", "record-test-key-0123456789abcdef0123456789");
  return ring.current();
}

bus::Json payload(std::size_t padding = 0) {
  return {{"execution_id", bus::uuid_v4()}, {"note", std::string(padding, 'x')}};
}

std::vector<bus::Json> log_lines(const std::filesystem::path& dir) {
  std::vector<bus::Json> out;
  std::ifstream in(dir / kRecordLogName);
  for (std::string line; std::getline(in, line);) out.push_back(bus::Json::parse(line));
  return out;
}

TEST(SandboxExecutionRecord, EachRecordChainsToThePreviousLine) {
  testing::TempDir d;
  const auto a = sign_and_store_record(payload(), record_key(), d.path());
  const auto b = sign_and_store_record(payload(), record_key(), d.path());
  EXPECT_EQ(a["chain_hash"], std::string(bus::kGenesisHash));
  EXPECT_EQ(b["chain_hash"], bus::envelope_hash(a));
  EXPECT_EQ(log_lines(d.path()).size(), 2u);
}

TEST(SandboxExecutionRecord, ATornLastLineIsCutAndTheChainContinues) {
  testing::TempDir d;
  const auto a = sign_and_store_record(payload(), record_key(), d.path());
  {
    std::ofstream torn(d.path() / kRecordLogName, std::ios::app);
    torn << R"({"chain_hash":"half a reco)";
  }
  const auto b = sign_and_store_record(payload(), record_key(), d.path());
  EXPECT_EQ(b["chain_hash"], bus::envelope_hash(a));
  const auto lines = log_lines(d.path());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], b);
}

TEST(SandboxExecutionRecord, FindsALastLineLongerThanTheFirstWindow) {
  testing::TempDir d;
  const auto big = sign_and_store_record(payload(200 * 1024), record_key(), d.path());
  // A torn tail larger than the first window as well.
  {
    std::ofstream torn(d.path() / kRecordLogName, std::ios::app);
    torn << std::string(100 * 1024, 'y');
  }
  const auto next = sign_and_store_record(payload(), record_key(), d.path());
  EXPECT_EQ(next["chain_hash"], bus::envelope_hash(big));
  EXPECT_EQ(log_lines(d.path()).size(), 2u);
}

}  // namespace
}  // namespace nonaxis::sandbox
