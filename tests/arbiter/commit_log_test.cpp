#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "commit_log.hpp"
#include "decider.hpp"
#include "fixtures.hpp"
#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ledger.hpp"
#include "scratch_dir.hpp"

namespace nonaxis::arbiter {
namespace {

using namespace testing;
using nlohmann::json;
namespace fs = std::filesystem;

class CommitLogTest : public ::testing::Test {
 protected:
  void SetUp() override { bus::prepare_role_dirs(layout, bus::Role::kArbiter, std::nullopt); }
  std::string read(const std::string& rel) { return bus::read_whole_file(layout.base + "/" + rel, 1 << 24); }
  std::size_t ledger_lines() { return bus::split_lines(read("state/decision_ledger.jsonl")).size(); }

  nonaxis::testing::ScratchDir scratch{"nonaxis-commit"};
  bus::Layout layout{scratch.str()};
  Policy policy = Policy::load_configured();
  Decider d{policy, arbiter_keys().current(), token_keys().current(), DeciderConfig{}};
};

TEST_F(CommitLogTest, CommitPublishesDecisionTokenLedgerAndEvents) {
  const json req = request();
  {
    CommitLog log(layout, arbiter_keys().current());
    std::vector<Outcome> batch;
    batch.push_back(d.on_assessment(req, assessment(req, 1)));
    log.commit(std::move(batch));
  }
  const std::string id = req["id"];
  EXPECT_TRUE(fs::exists(layout.decisions() + "/" + id + ".json"));
  EXPECT_TRUE(fs::exists(layout.tokens() + "/" + id + ".json"));
  EXPECT_EQ(ledger_lines(), 1u);
  EXPECT_EQ(bus::split_lines(read("state/events.jsonl")).size(), 3u);
  const auto v = bus::verify_ledger(read("state/decision_ledger.jsonl"), arbiter_keys(), read("state/decision_ledger.head.json"));
  EXPECT_TRUE(v.ok) << v.reason;
  // The token is byte-identical to the one in the ledger's artifact hash.
  const json entry = json::parse(bus::split_lines(read("state/decision_ledger.jsonl"))[0]);
  EXPECT_EQ(entry["artifacts"][2]["hash"], bus::sha256_hex(read("tokens/" + id + ".json")));
}

// A crash after the journal's commit point but before anything was applied:
// start-up re-applies the journal and publishes exactly what was decided.
TEST_F(CommitLogTest, JournalReplayAfterACrashPublishesOnceAndIdentically) {
  const json req = request();
  Outcome o = d.on_assessment(req, assessment(req, 1));
  const std::string token_bytes = bus::canonical_dump(*o.token) + "\n";
  {
    CommitLog log(layout, arbiter_keys().current());
    std::vector<Outcome> batch;
    batch.push_back(std::move(o));
    log.commit(std::move(batch));
  }
  // Simulate losing everything after the journal sync: keep a copy of the journal
  // as it was at the commit point, then undo the published effects.
  const std::string id = req["id"];
  const std::string ledger = read("state/decision_ledger.jsonl");
  fs::remove(layout.decisions() + "/" + id + ".json");
  fs::resize_file(layout.tokens() + "/" + id + ".json", 7);  // a power loss left it short
  fs::resize_file(layout.ledger_file(), 0);
  fs::resize_file(layout.events_file(), 0);
  fs::remove(layout.ledger_head_file());
  // The journal was truncated by a clean commit only past 8 MiB, so it still holds the record.
  ASSERT_GT(fs::file_size(layout.private_dir(bus::Role::kArbiter) + "/journal.jsonl"), 0u);
  {
    CommitLog recovered(layout, arbiter_keys().current());
    EXPECT_EQ(recovered.recovered_records(), 1u);
  }
  EXPECT_EQ(read("tokens/" + id + ".json"), token_bytes);
  EXPECT_EQ(read("state/decision_ledger.jsonl"), ledger);
  // A second start finds nothing left to do and adds nothing.
  { CommitLog again(layout, arbiter_keys().current()); }
  EXPECT_EQ(ledger_lines(), 1u);
}

TEST_F(CommitLogTest, AConflictingCompleteDecisionStopsStartUpInsteadOfBeingOverwritten) {
  const json req = request();
  {
    CommitLog log(layout, arbiter_keys().current());
    std::vector<Outcome> batch;
    batch.push_back(d.on_assessment(req, assessment(req, 1)));
    log.commit(std::move(batch));
  }
  const std::string path = layout.decisions() + "/" + req["id"].get<std::string>() + ".json";
  fs::remove(path);
  std::ofstream(path) << "{\"forged\":true}";
  EXPECT_THROW(CommitLog(layout, arbiter_keys().current()), std::runtime_error);
  EXPECT_EQ(read("decisions/" + req["id"].get<std::string>() + ".json"), "{\"forged\":true}");
}

TEST_F(CommitLogTest, ATornJournalTailWasNeverCommittedAndIsDropped) {
  {
    bus::AppendLog j(layout.private_dir(bus::Role::kArbiter) + "/journal.jsonl", nullptr, 0600);
  }
  std::ofstream(layout.private_dir(bus::Role::kArbiter) + "/journal.jsonl", std::ios::app) << "{\"request_id\":\"x";
  CommitLog log(layout, arbiter_keys().current());
  EXPECT_EQ(log.recovered_records(), 0u);
  EXPECT_EQ(log.ledger_entries(), 0u);
}

}  // namespace
}  // namespace nonaxis::arbiter
