#include <gtest/gtest.h>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/ledger.hpp"

namespace nonaxis::bus {
namespace {

class Ledger : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string prev(kGenesisHash);
    for (int i = 0; i < 5; ++i) {
      Json e = {{"decision_id", uuid_v4()}, {"timestamp", "2026-11-23T10:00:0" + std::to_string(i) + "Z"},
                {"statement", "Approved request " + std::to_string(i)}, {"rationale", {"r"}},
                {"constraints_referenced", Json::array()}, {"event_links", Json::array()}};
      e = seal_ledger_entry(e, prev, ring.current());
      prev = e["chain_hash"].get<std::string>();
      lines.push_back(canonical_dump(e));
    }
    head = canonical_dump(make_ledger_head({lines.size(), prev}, ring.current()));
  }
  std::string text(const std::vector<std::string>& ls) const {
    std::string t;
    for (const auto& l : ls) t += l + "\n";
    return t;
  }
  KeyRing ring = KeyRing::from_secret("A", std::string(32, 'a'));
  std::vector<std::string> lines;
  std::string head;
};

TEST_F(Ledger, IntactLedgerVerifies) {
  const auto r = verify_ledger(text(lines), ring, head);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.entries, 5u);
}

TEST_F(Ledger, EditIsDetectedAtTheEditedLine) {
  auto ls = lines;
  ls[2].replace(ls[2].find("Approved"), 8, "Rejected");
  const auto r = verify_ledger(text(ls), ring, head);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_line, 3u);
}

TEST_F(Ledger, DeletionIsDetected) {
  auto ls = lines;
  ls.erase(ls.begin() + 1);
  EXPECT_EQ(verify_ledger(text(ls), ring, head).first_bad_line, 2u);
}

TEST_F(Ledger, InsertionIsDetected) {
  auto ls = lines;
  ls.insert(ls.begin() + 3, lines[0]);
  EXPECT_EQ(verify_ledger(text(ls), ring, head).first_bad_line, 4u);
}

TEST_F(Ledger, ReorderingIsDetected) {
  auto ls = lines;
  std::swap(ls[1], ls[2]);
  EXPECT_EQ(verify_ledger(text(ls), ring, head).first_bad_line, 2u);
}

TEST_F(Ledger, CuttingEntriesFromTheEndIsDetectedByTheHead) {
  auto ls = lines;
  ls.pop_back();
  const auto r = verify_ledger(text(ls), ring, head);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("removed from the end"), std::string::npos);
}

TEST_F(Ledger, ResealingWithAnotherKeyIsDetected) {
  const KeyRing other = KeyRing::from_secret("A", std::string(32, 'x'));
  std::string prev(kGenesisHash);
  std::vector<std::string> forged;
  for (const auto& l : lines) {
    Json e = Json::parse(l);
    e = seal_ledger_entry(e, prev, other.current());
    prev = e["chain_hash"].get<std::string>();
    forged.push_back(canonical_dump(e));
  }
  EXPECT_EQ(verify_ledger(text(forged), ring).first_bad_line, 1u);
}

}  // namespace
}  // namespace nonaxis::bus
