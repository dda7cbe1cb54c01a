#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "nonaxis/bus/state.hpp"
#include "nonaxis/bus/state_files.hpp"
#include "nonaxis/bus/token.hpp"
#include "nonaxis/operator/client.hpp"
#include "scratch_dir.hpp"
#include "state_fixture.hpp"

namespace nonaxis::op {
namespace {

using bus::Json;
namespace fs = std::filesystem;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto r : {bus::Role::kOperator, bus::Role::kArbiter}) bus::prepare_role_dirs(layout, r, std::nullopt);
    client_ = std::make_unique<Client>(layout, keys);
  }

  Json filed(const std::string& id) {
    return Json::parse(bus::read_whole_file(layout.pending_review() + "/" + id + ".json", 1 << 20));
  }
  // Writes what the Arbiter would have written under state/ (or state/snapshots/).
  void write_state(const std::string& dir, const std::string& name, const std::string& bytes) {
    bus::UniqueFd d = bus::open_dir(dir);
    bus::write_new_file(d.get(), name, bytes);
  }
  std::string jsonl(int n, const std::function<Json(int)>& line) {
    std::string out;
    for (int i = 0; i < n; ++i) out += line(i).dump() + "\n";
    return out;
  }
  void publish_decision(const std::string& id, const std::string& decision, bool final) {
    Json p = {{"review_request_id", id}, {"assessment_id", std::string(bus::kNilUuid)}, {"decision", decision},
              {"decision_method", "deterministic"}, {"reasoning", "test"}, {"risk_tier", 2}};
    const Json env = bus::make_envelope(bus::MessageType::kDecision, p, bus::kGenesisHash, arb.current());
    bus::UniqueFd d = bus::open_dir(layout.decisions());
    bus::write_new_file(d.get(), id + (final ? ".json" : ".escalation.json"), bus::canonical_dump(env));
  }

  nonaxis::testing::ScratchDir scratch{"nonaxis-op"};
  bus::Layout layout{scratch.str()};
  bus::KeyRing keys = bus::KeyRing::from_secret("OP", std::string(32, 'o'));
  bus::KeyRing arb = bus::KeyRing::from_secret("ARB", std::string(32, 'a'));
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, TierZeroFilesNothing) {
  const Result r = client_->submit_review({"read", {"cat notes.txt", true}, {}, ""});
  EXPECT_EQ(r.decision, "approve");
  EXPECT_TRUE(r.request_id.empty());
  EXPECT_TRUE(bus::list_names(bus::open_dir(layout.pending_review()).get()).empty());
}

TEST_F(ClientTest, TierOneFilesAnAuditAndProceeds) {
  const Result r = client_->submit_review({"workspace_write", {"data", false}, {}, ""});
  EXPECT_EQ(r.decision, "approve");
  const Json env = filed(r.request_id);
  EXPECT_EQ(env["type"], "audit_request");
  EXPECT_EQ(env["risk_tier"], 1);
}

TEST_F(ClientTest, ReviewRequestIsSignedAndHashBound) {
  const Result r = client_->submit_review({"exec_unfamiliar", {"#!/bin/sh\nid\n", false}, {"example.org"}, "why"});
  EXPECT_EQ(r.decision, "pending");
  const Json env = filed(r.request_id);
  EXPECT_TRUE(bus::verify_envelope(env, keys, bus::MessageType::kReviewRequest).ok);
  EXPECT_EQ(bus::check_request(env), std::nullopt);
  EXPECT_EQ(env["payload"]["content_hash"], bus::content_hash_of("#!/bin/sh\nid\n"));
}

TEST_F(ClientTest, UnknownActionsAndBadHostsAreRefusedBeforeFiling) {
  EXPECT_THROW(client_->submit_review({"format_disk", {"x", true}, {}, ""}), std::invalid_argument);
  EXPECT_THROW(client_->submit_review({"exec_unfamiliar", {"x", true}, {"a b"}, ""}), std::invalid_argument);
}

TEST_F(ClientTest, PollSeesTheEscalationThenTheFinalDecision) {
  const Result r = client_->submit_review({"skill_install", {"install x", true}, {}, ""});
  EXPECT_EQ(client_->status(r.request_id).decision, "pending");
  EXPECT_FALSE(client_->poll_decision(r.request_id, std::chrono::milliseconds(50)));
  publish_decision(r.request_id, "escalate", false);
  EXPECT_EQ(client_->status(r.request_id).decision, "escalate");
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    publish_decision(r.request_id, "reject", true);
  });
  // The escalation is already there, so poll returns at once; status then sees the final one.
  EXPECT_TRUE(client_->poll_decision(r.request_id, std::chrono::seconds(5)));
  later.join();
  EXPECT_EQ(client_->status(r.request_id).decision, "reject");
}

TEST_F(ClientTest, BootReturnsTheLedgerTailAndAlwaysIncludeEntries) {
  EXPECT_TRUE(client_->boot()["ledger"].empty());
  write_state(layout.state(), "decision_ledger.jsonl", jsonl(40, [](int i) {
                return Json{{"decision_id", std::to_string(i)},
                            {"tags", i == 2 ? Json::array({"always_include"}) : Json::array()}};
              }));
  const Json b = client_->boot();
  ASSERT_EQ(b["ledger"].size(), 31u);
  EXPECT_EQ(b["ledger"][0]["decision_id"], "2");
  EXPECT_EQ(b["ledger"][1]["decision_id"], "10");
  EXPECT_EQ(b["ledger"][30]["decision_id"], "39");
}

TEST_F(ClientTest, BootReturnsTheLastTwentyEventsOldestFirst) {
  write_state(layout.state(), "events.jsonl",
              jsonl(25, [](int i) { return Json{{"event_id", std::to_string(i)}, {"event_type", "PROPOSED"}}; }));
  const Json b = client_->boot();
  ASSERT_EQ(b["recent_events"].size(), 20u);
  EXPECT_EQ(b["recent_events"][0]["event_id"], "5");
  EXPECT_EQ(b["recent_events"][19]["event_id"], "24");
}

TEST_F(ClientTest, BootWithoutStateFailsClosedToTierZero) {
  // No snapshot on disk: the session may run tier 0 only.
  Json b = client_->boot();
  EXPECT_TRUE(b["snapshot"].is_null());
  EXPECT_EQ(b["allowed_tiers"], Json::array({0}));
  EXPECT_EQ(b["consistency_checks"]["constraint_check"], "error");
  const Result blocked = client_->submit_review({"exec_unfamiliar", {"ls", true}, {}, ""});
  EXPECT_EQ(blocked.decision, "reject");
  EXPECT_EQ(blocked.decision_method, "fail_closed");
  EXPECT_TRUE(blocked.request_id.empty());  // nothing was filed
  EXPECT_EQ(client_->submit_review({"read", {"cat x", true}, {}, ""}).decision, "approve");
  // The State API unreachable: the same.
  client_->use_state_api({"127.0.0.1", 1});
  b = client_->boot();
  EXPECT_TRUE(b["snapshot"].is_null());
  EXPECT_NE(b["consistency_checks"]["details"][0]["detail"].get<std::string>().find("no answer"), std::string::npos);
  EXPECT_EQ(client_->submit_review({"exec_unfamiliar", {"ls", true}, {}, ""}).decision_method, "fail_closed");
}

// A CLI command is a process of its own: a failed boot must bind the next client too,
// until a boot finds authoritative state again.
TEST_F(ClientTest, AFailedBootBindsLaterClientsUntilABootSucceeds) {
  EXPECT_EQ(Client(layout, keys).submit_review({"exec_unfamiliar", {"ls", true}, {}, ""}).decision, "pending");
  EXPECT_TRUE(client_->boot()["snapshot"].is_null());
  Client next(layout, keys);
  const Result blocked = next.submit_review({"exec_unfamiliar", {"ls", true}, {}, ""});
  EXPECT_EQ(blocked.decision_method, "fail_closed");
  EXPECT_TRUE(blocked.request_id.empty());
  // The Arbiter publishes a snapshot; the next boot succeeds and lifts the restriction.
  const Json snap = bus::make_snapshot(bus::testing::sample_state_body(), nullptr, std::string(64, 'a'));
  write_state(layout.snapshots(), snap["snapshot_id"].get<std::string>() + ".json", bus::canonical_dump(snap));
  write_state(layout.state(), bus::kCurrentSnapshotFile,
              Json{{"snapshot_id", snap["snapshot_id"]}, {"state_hash", snap["state_hash"]}}.dump());
  ASSERT_FALSE(next.boot()["snapshot"].is_null()) << "the test's snapshot should be authoritative";
  EXPECT_EQ(Client(layout, keys).submit_review({"exec_unfamiliar", {"ls", true}, {}, ""}).decision, "pending");
}

TEST_F(ClientTest, HandoffsAndProposalsAreFiledAsSignedStateMessages) {
  const std::string base = "22222222-2222-4222-8222-222222222222";
  const std::string pid = client_->propose_state_patch(base, Json::parse(R"([{"op": "remove", "path": "/open_tasks/0"}])"), "done", "s1");
  const Json p = Json::parse(bus::read_whole_file(layout.pending_review() + "/" + pid + ".proposal.json", 1 << 20));
  EXPECT_EQ(p["type"], "state_proposal");
  EXPECT_TRUE(bus::verify_envelope(p, keys, bus::MessageType::kStateProposal).ok);
  const std::string hid = client_->submit_handoff({{"session_id", "s1"}, {"snapshot_id", base}, {"session_summary", {"did it"}}});
  const Json h = Json::parse(bus::read_whole_file(layout.pending_review() + "/" + hid + ".handoff.json", 1 << 20));
  EXPECT_EQ(h["id"], hid);
  EXPECT_EQ(h["payload"]["handoff_id"], hid);
  EXPECT_THROW(client_->propose_state_patch(base, Json::array(), "x"), std::invalid_argument);
  EXPECT_THROW(client_->submit_handoff({{"session_id", "s1"}, {"snapshot_id", base}, {"session_summary", Json::array()}}),
               std::invalid_argument);
}

TEST_F(ClientTest, ApplyTokenChecksContentAndExpiry) {
  const auto tk = bus::KeyRing::from_secret("TOK", std::string(32, 't'));
  bus::TokenGrant g{"exec_unfamiliar", bus::content_hash_of("echo ok"), {}, {}, 10, std::chrono::seconds(300)};
  const Json t = bus::issue_token(tk.current(), g, std::chrono::system_clock::now());
  std::string why;
  EXPECT_TRUE(client_->apply_token(t, "echo ok", &why)) << why;
  EXPECT_FALSE(client_->apply_token(t, "echo swapped", &why));
  EXPECT_NE(why.find("different content"), std::string::npos);
  const Json old = bus::issue_token(tk.current(), g, std::chrono::system_clock::now() - std::chrono::hours(1));
  EXPECT_FALSE(client_->apply_token(old, "echo ok", &why));
}

}  // namespace
}  // namespace nonaxis::op
