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

bool write_verdict(const bus::Layout& layout, const std::string& request_id, const Verdict& v, const bus::Key& key) {
  json rec = {{"request_id", request_id},
              {"verdict", v.approve ? "approve" : "deny"},
              {"by", v.by},
              {"reason", v.reason},
              {"at", bus::rfc3339_micro(std::chrono::system_clock::now())},
              {"kid", key.kid}};
  rec["signature"] = bus::hmac_sha256_hex(key.secret, bus::canonical_dump(rec));
  bus::UniqueFd dir = bus::open_dir(verdicts_dir(layout));
  return bus::write_new_file(dir.get(), request_id + ".json", bus::canonical_dump(rec) + "\n", 0600) ==
         bus::WriteOutcome::kCreated;
}

std::optional<Verdict> read_verdict(int dirfd, const std::string& name, const std::string& request_id,
                                    const bus::KeyRing& ring) {
  const auto r = bus::read_queue_file(dirfd, name, {64 * 1024, bus::owner_of(dirfd)});
  if (!r.ok()) return std::nullopt;
  json rec = json::parse(r.data, nullptr, false);
  if (!rec.is_object() || !rec.contains("signature") || !rec["signature"].is_string() || !rec.contains("kid") ||
      !rec["kid"].is_string() || rec.value("request_id", std::string()) != request_id || !rec.contains("by") ||
      !rec["by"].is_string() || !rec.contains("reason") || !rec["reason"].is_string()) {
    return std::nullopt;
  }
  const std::string sig = rec["signature"].get<std::string>();
  rec.erase("signature");
  const bus::Key* k = ring.find(rec["kid"].get<std::string>());
  if (k == nullptr || !bus::constant_time_equal(bus::hmac_sha256_hex(k->secret, bus::canonical_dump(rec)), sig)) return std::nullopt;
  const std::string verdict = rec.value("verdict", std::string());
  if (verdict != "approve" && verdict != "deny") return std::nullopt;
  return Verdict{verdict == "approve", rec["by"].get<std::string>(), rec["reason"].get<std::string>()};
}

}  // namespace nonaxis::arbiter
