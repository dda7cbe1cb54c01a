#include "approvals.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "outcome.hpp"
#include "verdict.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

namespace {

json read_json(int dirfd, const std::string& name) {
  const auto r = bus::read_queue_file(dirfd, name, {bus::kMaxMessageBytes, std::nullopt});
  return r.ok() ? json::parse(r.data, nullptr, false) : json();
}

bool exists(int dirfd, const std::string& name) {
  struct stat st {};
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

}  // namespace

int approvals_list(const bus::Layout& layout, bool as_json) {
  bus::UniqueFd dir = bus::open_dir(layout.decisions());
  json items = json::array();
  for (const auto& n : bus::list_names(dir.get())) {
    if (n.size() != 52 || n.compare(36, 16, ".escalation.json") != 0) continue;
    const std::string id = n.substr(0, 36);
    if (!bus::is_uuid(id) || exists(dir.get(), decision_file_name(id, true))) continue;
    const json d = read_json(dir.get(), n);
    if (!d.is_object()) continue;
    const json& p = d["payload"];
    items.push_back({{"request_id", id},
                     {"escalated_at", d.value("timestamp", std::string())},
                     {"risk_tier", p.value("risk_tier", 0)},
                     {"risk_score", p.value("risk_score", json())},
                     {"method", p.value("decision_method", std::string())},
                     {"reasoning", p.value("reasoning", std::string())},
                     {"context", p.contains("escalation") ? p["escalation"].value("context_for_human", std::string()) : ""}});
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a["escalated_at"] < b["escalated_at"]; });
  if (as_json) {
    std::cout << items.dump(2) << "\n";
  } else if (items.empty()) {
    std::cout << "No escalations are waiting for a human.\n";
  } else {
    for (const auto& i : items) {
      std::cout << i["request_id"].get<std::string>() << "  tier " << i["risk_tier"] << "  escalated "
                << i["escalated_at"].get<std::string>() << "\n    " << i["reasoning"].get<std::string>() << "\n";
    }
  }
  return 0;
}

int approvals_answer(const bus::Layout& layout, const bus::Key& key, const std::string& request_id, bool approve,
                     const std::string& by, const std::string& reason, int wait_seconds, bool as_json) {
  bus::UniqueFd dir = bus::open_dir(layout.decisions());
  if (!bus::is_uuid(request_id) || !exists(dir.get(), decision_file_name(request_id, false)) ||
      exists(dir.get(), decision_file_name(request_id, true))) {
    std::cerr << "nonaxis-arbiter: request " << request_id << " is not waiting for a human\n";
    return 3;
  }
  if (!write_verdict(layout, request_id, Verdict{approve, by, reason}, key)) {
    std::cerr << "nonaxis-arbiter: a verdict for " << request_id << " was already recorded\n";
    return 4;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const json d = read_json(dir.get(), decision_file_name(request_id, true));
    if (d.is_object()) {
      const std::string outcome = d["payload"]["decision"].get<std::string>();
      if (as_json) {
        std::cout << json{{"request_id", request_id}, {"decision", outcome}, {"decision_method", d["payload"]["decision_method"]}}.dump() << "\n";
      } else {
        std::cout << "Request " << request_id << ": " << outcome << " (recorded in the ledger)\n";
      }
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "nonaxis-arbiter: verdict recorded, but the Arbiter daemon has not decided within " << wait_seconds
            << " s; it will when it runs\n";
  return 5;
}

}  // namespace nonaxis::arbiter
