#include "nonaxis/bus/events.hpp"

#include <chrono>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"

namespace nonaxis::bus {

Json make_event(const std::string& prev_chain_hash, const std::string& event_type, const std::string& source,
                const Json& references, const Json& payload) {
  Json ev = {{"event_id", uuid_v4()},
             {"timestamp", rfc3339_micro(std::chrono::system_clock::now())},
             {"event_type", event_type},
             {"source", source}};
  if (!references.empty()) ev["references"] = references;
  if (!payload.empty()) ev["payload"] = payload;
  ev["chain_hash"] = sha256_hex(prev_chain_hash + canonical_dump(ev));
  return ev;
}

}  // namespace nonaxis::bus
