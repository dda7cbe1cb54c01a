#include "verdict.hpp"

#include <chrono>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

std::string verdicts_dir(const bus::Layout& layout) { return layout.private_dir(bus::Role::kArbiter) + "/verdicts"; }

namespace {

// Verdicts and rollback orders: small records signed with the Arbiter's key, so a
// file dropped into the private directory by anyone else is ignored.
bool write_signed(const bus::Layout& layout, const std::string& name, json rec, const bus::Key& key) {
  rec["at"] = bus::rfc3339_micro(std::chrono::system_clock::now());
  rec["kid"] = key.kid;
  rec["signature"] = bus::hmac_sha256_hex(key.secret, bus::canonical_dump(rec));
  bus::UniqueFd dir = bus::open_dir(verdicts_dir(layout));
  return bus::write_new_file(dir.get(), name, bus::canonical_dump(rec) + "\n", 0600) == bus::WriteOutcome::kCreated;
}

// The verified record with string fields `fields`, or nullopt.
std::optional<json> read_signed(int dirfd, const std::string& name, const bus::KeyRing& ring, std::initializer_list<const char*> fields) {
  const auto r = bus::read_queue_file(dirfd, name, {64 * 1024, bus::owner_of(dirfd)});
  if (!r.ok()) return std::nullopt;
  json rec = json::parse(r.data, nullptr, false);
  if (!rec.is_object() || !rec.contains("signature") || !rec["signature"].is_string() || !rec.contains("kid") || !rec["kid"].is_string()) {
    return std::nullopt;
  }
  for (const char* f : fields) {
    if (!rec.contains(f) || !rec[f].is_string()) return std::nullopt;
  }
  const std::string sig = rec["signature"].get<std::string>();
  rec.erase("signature");
  const bus::Key* k = ring.find(rec["kid"].get<std::string>());
  if (k == nullptr || !bus::constant_time_equal(bus::hmac_sha256_hex(k->secret, bus::canonical_dump(rec)), sig)) return std::nullopt;
  return rec;
}

}  // namespace

bool write_verdict(const bus::Layout& layout, const std::string& request_id, const Verdict& v, const bus::Key& key) {
  return write_signed(layout, request_id + ".json",
                      {{"request_id", request_id}, {"verdict", v.approve ? "approve" : "deny"}, {"by", v.by}, {"reason", v.reason}}, key);
}

std::optional<Verdict> read_verdict(int dirfd, const std::string& name, const std::string& request_id,
                                    const bus::KeyRing& ring) {
  const auto rec = read_signed(dirfd, name, ring, {"request_id", "by", "reason"});
  if (!rec || (*rec)["request_id"] != request_id) return std::nullopt;
  const std::string verdict = rec->value("verdict", std::string());
  if (verdict != "approve" && verdict != "deny") return std::nullopt;
  return Verdict{verdict == "approve", (*rec)["by"].get<std::string>(), (*rec)["reason"].get<std::string>()};
}

std::string write_rollback(const bus::Layout& layout, const std::string& to, const std::string& by, const std::string& reason,
                           const bus::Key& key) {
  const std::string id = bus::uuid_v4();
  if (!write_signed(layout, id + kRollbackSuffix, {{"rollback_id", id}, {"to", to}, {"by", by}, {"reason", reason}}, key)) {
    throw std::runtime_error("rollback order id collision");
  }
  return id;
}

std::optional<Rollback> read_rollback(int dirfd, const std::string& name, const bus::KeyRing& ring) {
  const auto rec = read_signed(dirfd, name, ring, {"rollback_id", "to", "by", "reason"});
  if (!rec || name != (*rec)["rollback_id"].get<std::string>() + kRollbackSuffix) return std::nullopt;
  return Rollback{(*rec)["rollback_id"], (*rec)["to"], (*rec)["by"], (*rec)["reason"]};
}

}  // namespace nonaxis::arbiter
