#include "nonaxis/bus/ledger.hpp"

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/ids.hpp"

namespace nonaxis::bus {
namespace {

std::string signed_string(const Json& e) {
  return e["decision_id"].get<std::string>() + ":" + e["timestamp"].get<std::string>() + ":" +
         e["statement"].get<std::string>() + ":" + e["chain_hash"].get<std::string>();
}

LedgerVerifyResult bad(std::size_t line, std::string reason, std::size_t entries) {
  LedgerVerifyResult r;
  r.ok = false;
  r.first_bad_line = line;
  r.reason = std::move(reason);
  r.entries = entries;
  return r;
}

}  // namespace

std::string ledger_chain_hash(const std::string& prev_chain_hash, const Json& entry) {
  Json body = entry;
  body.erase("chain_hash");
  body.erase("arbiter_signature");
  return sha256_hex(prev_chain_hash + canonical_dump(body));
}

Json seal_ledger_entry(Json entry, const std::string& prev_chain_hash, const Key& key) {
  entry["chain_hash"] = ledger_chain_hash(prev_chain_hash, entry);
  entry["arbiter_signature"] = hmac_sha256_hex(key.secret, signed_string(entry));
  return entry;
}

Json make_ledger_head(const LedgerHead& head, const Key& key) {
  const std::string msg = std::to_string(head.count) + ":" + head.chain_hash;
  return Json{{"count", head.count}, {"chain_hash", head.chain_hash}, {"kid", key.kid},
              {"signature", hmac_sha256_hex(key.secret, msg)}};
}

LedgerVerifyResult verify_ledger(const std::string& text, const KeyRing& ring, const std::string& head_text) {
  std::string tail;
  const auto lines = split_lines(text, &tail);
  std::string prev(kGenesisHash);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::size_t lineno = i + 1;
    const Json e = Json::parse(lines[i], nullptr, false);
    if (e.is_discarded() || !e.is_object()) return bad(lineno, "not a JSON object", i);
    for (const char* f : {"decision_id", "timestamp", "statement", "chain_hash", "arbiter_signature"}) {
      if (!e.contains(f) || !e[f].is_string()) return bad(lineno, std::string("field '") + f + "' missing", i);
    }
    if (ledger_chain_hash(prev, e) != e["chain_hash"].get<std::string>()) {
      return bad(lineno, "chain_hash does not follow from the previous entry (edited, inserted, removed or reordered)", i);
    }
    bool sig_ok = false;
    const std::string msg = signed_string(e);
    // Entries carry no key id (the schema forbids extra fields): after a rotation,
    // older entries verify under the previous key.
    for (const Key& k : ring.all()) {
      sig_ok = sig_ok || constant_time_equal(hmac_sha256_hex(k.secret, msg), e["arbiter_signature"].get<std::string>());
    }
    if (!sig_ok) return bad(lineno, "arbiter_signature does not verify", i);
    prev = e["chain_hash"].get<std::string>();
  }
  if (!tail.empty()) return bad(lines.size() + 1, "incomplete last line", lines.size());
  if (!head_text.empty()) {
    const Json h = Json::parse(head_text, nullptr, false);
    if (h.is_discarded() || !h.contains("count") || !h["count"].is_number_unsigned() || !h.contains("chain_hash") ||
        !h["chain_hash"].is_string() || !h.contains("signature") || !h["signature"].is_string() ||
        !h.contains("kid") || !h["kid"].is_string()) {
      return bad(lines.size() + 1, "ledger head record is malformed", lines.size());
    }
    const Key* k = ring.find(h["kid"].get<std::string>());
    const auto count = h["count"].get<std::size_t>();
    const std::string msg = std::to_string(count) + ":" + h["chain_hash"].get<std::string>();
    if (k == nullptr || !constant_time_equal(hmac_sha256_hex(k->secret, msg), h["signature"].get<std::string>())) {
      return bad(lines.size() + 1, "ledger head signature does not verify", lines.size());
    }
    // The head is written after each durable batch, so it may lag but never lead.
    if (count > lines.size()) {
      return bad(lines.size() + 1, "ledger has " + std::to_string(lines.size()) + " entries but its head records " +
                                       std::to_string(count) + ": entries were removed from the end", lines.size());
    }
    if (count > 0) {
      const Json at = Json::parse(lines[count - 1], nullptr, false);
      if (at["chain_hash"] != h["chain_hash"]) return bad(count, "entry does not match the signed ledger head", count - 1);
    }
  }
  LedgerVerifyResult r;
  r.entries = lines.size();
  r.last_chain_hash = prev;
  return r;
}

}  // namespace nonaxis::bus
