#pragma once
// The decision ledger (decision-ledger-entry.schema.json): append-only JSONL, each
// entry hash-chained to the one before and HMAC-signed by the Arbiter. A signed
// head record (count + last chain hash) also detects entries cut from the end.
#include <optional>
#include <string>
#include <vector>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::bus {

// chain_hash = SHA-256(prev_chain_hash || canonical(entry without chain_hash and arbiter_signature)).
std::string ledger_chain_hash(const std::string& prev_chain_hash, const Json& entry);

// Fills chain_hash and arbiter_signature = HMAC(key, decision_id:timestamp:statement:chain_hash).
Json seal_ledger_entry(Json entry, const std::string& prev_chain_hash, const Key& key);

struct LedgerHead {
  std::size_t count = 0;
  std::string chain_hash;
};
Json make_ledger_head(const LedgerHead& head, const Key& key);

struct LedgerVerifyResult {
  bool ok = true;
  std::size_t entries = 0;
  std::size_t first_bad_line = 0;  // 1-based; 0 when ok
  std::string reason;
  std::string last_chain_hash;
};

// Verifies every line of `text` in order; `head_text` (may be empty) must then agree.
LedgerVerifyResult verify_ledger(const std::string& text, const KeyRing& ring, const std::string& head_text = {});

}  // namespace nonaxis::bus
