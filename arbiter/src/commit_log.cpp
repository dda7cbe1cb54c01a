#include "commit_log.hpp"

#include <unistd.h>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/events.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/ledger.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

std::string decision_file_name(const std::string& request_id, bool final) {
  return request_id + (final ? ".json" : ".escalation.json");
}

namespace {
constexpr std::size_t kJournalRotateBytes = 8u << 20;
}  // namespace

CommitLog::CommitLog(const bus::Layout& layout, const bus::Key& arbiter_key)
    : layout_(layout),
      key_(arbiter_key),
      decisions_dir_(bus::open_dir(layout.decisions())),
      tokens_dir_(bus::open_dir(layout.tokens())),
      state_dir_(bus::open_dir(layout.state())),
      snapshots_dir_(bus::open_dir(layout.snapshots())),
      handoffs_dir_(bus::open_dir(layout.handoffs())),
      journal_(layout.private_dir(bus::Role::kArbiter) + "/journal.jsonl", &journal_lines_at_open_, 0600),
      ledger_(layout.ledger_file(), &ledger_lines_at_open_),
      events_(layout.events_file(), &event_lines_at_open_) {
  ledger_chain_ = std::string(bus::kGenesisHash);
  for (const auto& l : ledger_lines_at_open_) {
    const json e = json::parse(l, nullptr, false);
    if (e.is_discarded() || !e.contains("decision_id")) throw std::runtime_error("ledger line is not a ledger entry; run verify-ledger");
    ledger_ids_.insert(e["decision_id"].get<std::string>());
    ledger_chain_ = e["chain_hash"].get<std::string>();
  }
  ledger_count_ = ledger_lines_at_open_.size();
  event_chain_ = std::string(bus::kGenesisHash);
  for (const auto& l : event_lines_at_open_) {
    const json e = json::parse(l, nullptr, false);
    if (e.is_discarded() || !e.contains("event_id")) throw std::runtime_error("events.jsonl holds a line that is not an event");
    event_ids_.insert(e["event_id"].get<std::string>());
    event_chain_ = e["chain_hash"].get<std::string>();
  }
  ledger_lines_at_open_.clear();
  event_lines_at_open_.clear();
  recover();
}

CommitLog::Prepared CommitLog::prepare(Outcome& o) {
  Prepared p;
  p.request_id = o.request_id;
  p.decision_id = o.ledger_entry["decision_id"].get<std::string>();
  if (!o.decision.is_null()) {
    p.decision_name = decision_file_name(o.request_id, o.final);
    p.decision_bytes = bus::canonical_dump(o.decision) + "\n";
  }
  if (o.token) p.token_bytes = bus::canonical_dump(*o.token) + "\n";
  p.state_writes = o.state_writes;

  json event_ids = json::array();
  for (const auto& ev : o.events) {
    json refs = ev.references;
    if (!o.request_id.empty()) refs["review_request_id"] = o.request_id;
    if (!o.decision.is_null()) refs["decision_id"] = o.decision["id"];
    const json e = bus::make_event(event_chain_, ev.event_type, ev.source, refs, ev.payload);
    event_chain_ = e["chain_hash"].get<std::string>();
    event_ids.push_back(e["event_id"]);
    p.event_ids.push_back(e["event_id"].get<std::string>());
    p.event_lines.push_back(bus::canonical_dump(e));
  }
  json entry = o.ledger_entry;
  entry["event_links"] = event_ids;
  json artifacts = entry.value("artifacts", json::array());
  if (!p.decision_name.empty()) {
    artifacts.push_back({{"type", "decision"}, {"path", "decisions/" + p.decision_name}, {"hash", bus::sha256_hex(p.decision_bytes)}});
  }
  for (const auto& w : p.state_writes) {
    if (w.replace) continue;  // pointers are derived; the immutable files are the artifacts
    artifacts.push_back({{"type", w.subdir == "snapshots" ? "snapshot" : "handoff"},
                         {"path", "state/" + w.subdir + "/" + w.name},
                         {"hash", bus::sha256_hex(w.bytes)}});
  }
  if (o.token) artifacts.push_back({{"type", "token"}, {"path", "tokens/" + o.request_id + ".json"}, {"hash", bus::sha256_hex(p.token_bytes)}});
  entry["artifacts"] = artifacts;
  const json sealed = bus::seal_ledger_entry(entry, ledger_chain_, key_);
  ledger_chain_ = sealed["chain_hash"].get<std::string>();
  p.ledger_line = bus::canonical_dump(sealed);

  json writes = json::array();
  for (const auto& w : p.state_writes) writes.push_back({{"subdir", w.subdir}, {"name", w.name}, {"bytes", w.bytes}, {"replace", w.replace}});
  json record = {{"request_id", o.request_id}, {"decision_name", p.decision_name}, {"decision_bytes", p.decision_bytes},
                 {"token_bytes", p.token_bytes}, {"ledger_line", p.ledger_line}, {"event_lines", p.event_lines},
                 {"state_writes", writes}};
  p.journal_line = bus::canonical_dump(record);
  return p;
}

void CommitLog::apply(const std::vector<Prepared>& records, bool recovering) {
  std::vector<std::string> ledger_lines, event_lines;
  for (const auto& r : records) {
    if (ledger_ids_.insert(r.decision_id).second) {
      ledger_lines.push_back(r.ledger_line);
      if (recovering) ledger_chain_ = json::parse(r.ledger_line)["chain_hash"].get<std::string>();
    }
    for (std::size_t i = 0; i < r.event_lines.size(); ++i) {
      if (event_ids_.insert(r.event_ids[i]).second) {
        event_lines.push_back(r.event_lines[i]);
        if (recovering) event_chain_ = json::parse(r.event_lines[i])["chain_hash"].get<std::string>();
      }
    }
  }
  ledger_.append(ledger_lines);
  events_.append(event_lines);
  ledger_count_ += ledger_lines.size();
  // The ledger file itself is durable before any token it records becomes visible.
  if (!ledger_lines.empty()) ledger_.sync();
  for (const auto& r : records) {
    // The token is renamed into view before its decision: a reader that sees an
    // approval must find its token.
    if (!r.token_bytes.empty()) publish(tokens_dir_.get(), r.request_id + ".json", r.token_bytes, recovering);
    // A new snapshot is in place before current.json names it, and both before the
    // decision that reports the change.
    for (const auto& w : r.state_writes) publish_state(w, recovering);
    if (!r.decision_name.empty()) publish(decisions_dir_.get(), r.decision_name, r.decision_bytes, recovering);
  }
  bus::replace_file(state_dir_.get(), "decision_ledger.head.json",
                    bus::canonical_dump(bus::make_ledger_head({ledger_count_, ledger_chain_}, key_)) + "\n", false);
}

// Published files are derived from the fsynced journal, so they are created
// atomically (temp + rename) without a flush of their own; recovery compares each
// with the journal's bytes and rewrites any that a power loss left short.
void CommitLog::publish(int dirfd, const std::string& name, const std::string& bytes, bool recovering) {
  if (recovering) {
    const auto r = bus::read_queue_file(dirfd, name, {bus::kMaxMessageBytes, std::nullopt});
    if (r.ok() && r.data == bytes) return;
    if (r.status != bus::ReadResult::Status::kMissing) {
      // Only a file a power loss cut short is repaired; a complete but different
      // document would mean two decisions, which must never be papered over.
      if (r.ok() && json::accept(r.data)) {
        throw std::runtime_error("published file " + name + " conflicts with the journal; refusing to start");
      }
      bus::log_warn("published_file_repaired", {{"file", name}, {"reason", r.ok() ? "incomplete content" : r.reason}});
      bus::replace_file(dirfd, name, bytes, false);
      return;
    }
  }
  if (bus::publish_new_file(dirfd, name, bytes) == bus::WriteOutcome::kAlreadyExists && !recovering) {
    throw std::runtime_error("decision file " + name + " already exists: refusing a second decision");
  }
}

void CommitLog::publish_state(const StateWrite& w, bool recovering) {
  const int dirfd = w.subdir == "snapshots" ? snapshots_dir_.get() : w.subdir == "handoffs" ? handoffs_dir_.get() : state_dir_.get();
  if (w.replace) {
    bus::replace_file(dirfd, w.name, w.bytes, false);
  } else {
    publish(dirfd, w.name, w.bytes, recovering);
  }
}

void CommitLog::recover() {
  std::vector<Prepared> records;
  for (const auto& line : journal_lines_at_open_) {
    const json rec = json::parse(line, nullptr, false);
    if (rec.is_discarded()) throw std::runtime_error("arbiter journal holds an unreadable record");
    Prepared p;
    p.request_id = rec["request_id"].get<std::string>();
    p.decision_name = rec["decision_name"].get<std::string>();
    p.decision_bytes = rec["decision_bytes"].get<std::string>();
    p.token_bytes = rec["token_bytes"].get<std::string>();
    p.ledger_line = rec["ledger_line"].get<std::string>();
    p.decision_id = json::parse(p.ledger_line)["decision_id"].get<std::string>();
    p.event_lines = rec["event_lines"].get<std::vector<std::string>>();
    for (const auto& l : p.event_lines) p.event_ids.push_back(json::parse(l)["event_id"].get<std::string>());
    for (const auto& w : rec.value("state_writes", json::array())) {
      p.state_writes.push_back({w["subdir"].get<std::string>(), w["name"].get<std::string>(), w["bytes"].get<std::string>(),
                                w["replace"].get<bool>()});
    }
    records.push_back(std::move(p));
  }
  if (!records.empty()) {
    apply(records, true);
    recovered_ = records.size();
    bus::log_info("journal_replayed", {{"records", records.size()}, {"ledger_entries", ledger_count_}});
  }
  journal_lines_at_open_.clear();
  checkpoint();
}

// Makes every derived file durable, after which the journal is no longer needed.
void CommitLog::checkpoint() {
  if (::syncfs(state_dir_.get()) != 0) throw bus::IoError("syncfs", errno);
  journal_.truncate();
  journal_bytes_ = 0;
}

void CommitLog::commit(std::vector<Outcome> batch) {
  if (batch.empty()) return;
  std::vector<Prepared> records;
  std::vector<std::string> journal_lines;
  for (auto& o : batch) {
    records.push_back(prepare(o));
    journal_lines.push_back(records.back().journal_line);
  }
  journal_.append(journal_lines);
  journal_.sync();  // commit point
  for (const auto& l : journal_lines) journal_bytes_ += l.size() + 1;
  apply(records, false);
  if (journal_bytes_ > kJournalRotateBytes) checkpoint();
}

}  // namespace nonaxis::arbiter
