#pragma once
// Exactly-once commit of decisions. A batch is first written to the Arbiter's
// private write-ahead journal and fdatasynced: that is the commit point. It is then
// applied: ledger and event lines appended and the ledger fdatasynced, so a token
// is never visible before the ledger entry recording it is durable; then token and
// decision files are published atomically (temp + rename NOREPLACE). Published
// files and events are derived from the journal, so they need no flush of their
// own: a crash at any point is repaired at start-up by re-applying the journal,
// which yields byte-identical files (rewriting any a power loss left short) and
// never a second decision. A checkpoint (syncfs) precedes every journal truncation.
#include <set>
#include <string>
#include <vector>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/layout.hpp"
#include "outcome.hpp"

namespace nonaxis::arbiter {

class CommitLog {
 public:
  CommitLog(const bus::Layout& layout, const bus::Key& arbiter_key);

  void commit(std::vector<Outcome> batch);

  std::size_t ledger_entries() const { return ledger_count_; }
  std::size_t recovered_records() const { return recovered_; }
  // True once a ledger entry with this decision_id is committed (how one-off orders
  // such as rollbacks and execution reports are applied exactly once).
  bool recorded(const std::string& decision_id) const { return ledger_ids_.count(decision_id) != 0; }

 private:
  struct Prepared {
    std::string request_id;
    std::string decision_id;
    std::vector<std::string> event_ids;
    std::string journal_line;
    std::string ledger_line;
    std::vector<std::string> event_lines;
    std::string decision_name;
    std::string decision_bytes;
    std::string token_bytes;  // empty when no token
    std::vector<StateWrite> state_writes;
  };
  Prepared prepare(Outcome& o);
  void apply(const std::vector<Prepared>& records, bool recovering);
  void recover();
  void checkpoint();
  void publish(int dirfd, const std::string& name, const std::string& bytes, bool recovering);
  void publish_state(const StateWrite& w, bool recovering);

  bus::Layout layout_;
  bus::Key key_;
  bus::UniqueFd decisions_dir_, tokens_dir_, state_dir_, snapshots_dir_, handoffs_dir_;
  // Filled while the logs below are opened (declared first so they exist by then).
  std::vector<std::string> journal_lines_at_open_, ledger_lines_at_open_, event_lines_at_open_;
  bus::AppendLog journal_;
  bus::AppendLog ledger_;
  bus::AppendLog events_;
  std::set<std::string> ledger_ids_, event_ids_;
  std::string ledger_chain_, event_chain_;
  std::size_t ledger_count_ = 0;
  std::size_t journal_bytes_ = 0;
  std::size_t recovered_ = 0;
};

}  // namespace nonaxis::arbiter
