#include "service.hpp"

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "verdict.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;
using Clock = std::chrono::system_clock;

Service::Service(const bus::Layout& layout, const Keys& keys, const Policy& policy, DeciderConfig dcfg, ServiceConfig scfg)
    : layout_(layout),
      keys_(keys),
      decider_(policy, keys.arbiter.current(), keys.token.current(), dcfg),
      cfg_(scfg),
      dead_(layout, bus::Role::kArbiter),
      requests_(layout.pending_review(), keys.operator_, bus::Kind::kRequest, dead_),
      assessments_(layout.assessments(), keys.ciso, bus::Kind::kAssessment, dead_),
      verdicts_dir_(verdicts_dir(layout)),
      verdicts_fd_(bus::open_dir(verdicts_dir_)),
      log_(layout, keys.arbiter.current()) {
  for (const auto& d : {layout.decisions(), layout.tokens(), layout.state(), verdicts_dir_}) {
    bus::UniqueFd fd = bus::open_dir(d);
    bus::remove_stale_temps(fd.get());
  }
  load_decided();
}

void Service::load_decided() {
  bus::UniqueFd dir = bus::open_dir(layout_.decisions());
  std::vector<std::string> escalations;
  for (const auto& n : bus::list_names(dir.get())) {
    if (auto id = bus::id_from_name(n)) {
      final_.insert(*id);
    } else if (n.size() == 52 && n.compare(36, 16, ".escalation.json") == 0 && bus::is_uuid(n.substr(0, 36))) {
      escalations.push_back(n);
    }
  }
  for (const auto& n : escalations) {
    const std::string id = n.substr(0, 36);
    if (final_.count(id) != 0) continue;
    // Our own file, but read it as carefully as any other.
    const auto r = bus::read_queue_file(dir.get(), n, {bus::kMaxMessageBytes, bus::owner_of(dir.get())});
    const json env = r.ok() ? json::parse(r.data, nullptr, false) : json();
    if (!env.is_object() || !bus::verify_envelope(env, keys_.arbiter, bus::MessageType::kDecision).ok) {
      throw std::runtime_error("escalation record " + n + " does not verify; refusing to start");
    }
    Escalated e;
    e.esc.decision_id = env["id"].get<std::string>();
    e.esc.assessment_id = env["payload"]["assessment_id"].get<std::string>();
    e.since = bus::parse_rfc3339(env["timestamp"].get<std::string>()).value_or(Clock::now());
    if (e.esc.assessment_id != bus::kNilUuid) {
      if (auto a = assessments_.read(id + ".json", id)) e.esc.assessment_payload = (*a)["payload"];
    }
    escalated_[id] = e;
  }
  bus::log_info("arbiter_state_loaded", {{"final_decisions", final_.size()}, {"pending_escalations", escalated_.size()},
                                         {"ledger_entries", log_.ledger_entries()}, {"journal_records_replayed", log_.recovered_records()}});
}

const json* Service::request_for(const std::string& id) {
  auto it = pending_.find(id);
  if (it != pending_.end()) return &it->second.request;
  auto env = requests_.read(id + ".json", id);
  if (!env) return nullptr;
  auto ts = bus::parse_rfc3339((*env)["timestamp"].get<std::string>()).value_or(Clock::now());
  // The Operator's clock must not postpone a timeout: never start the clock in the future.
  if (ts > Clock::now()) ts = Clock::now();
  return &pending_.emplace(id, Pending{std::move(*env), ts}).first->second.request;
}

void Service::on_request(const std::string& name) {
  const auto id = bus::id_from_name(name);
  if (!id) {
    if (!dead_.already_refused(requests_.dir(), name)) dead_.refuse(requests_.dir(), name, "bad_name", "file name is not <uuid>.json");
    return;
  }
  if (final_.count(*id) != 0 || escalated_.count(*id) != 0 || in_batch_.count(*id) != 0) return;
  if (request_for(*id) == nullptr) return;
  // The assessment may already be there (it normally arrives after).
  on_assessment(*id + ".json");
}

void Service::on_assessment(const std::string& name) {
  const auto id = bus::id_from_name(name);
  if (!id) {
    if (!dead_.already_refused(assessments_.dir(), name)) dead_.refuse(assessments_.dir(), name, "bad_name", "file name is not <uuid>.json");
    return;
  }
  if (final_.count(*id) != 0 || escalated_.count(*id) != 0 || in_batch_.count(*id) != 0) return;
  const json* req = request_for(*id);
  if (req == nullptr) return;
  auto assessment = assessments_.read(name, *id);
  if (!assessment) return;
  batch_.push_back(decider_.on_assessment(*req, *assessment));
  batch_assessments_[*id] = (*assessment)["payload"];  // kept for an escalation's later human verdict
  in_batch_.insert(*id);
}

void Service::on_verdict(const std::string& name) {
  const auto id = bus::id_from_name(name);
  if (!id || final_.count(*id) != 0 || in_batch_.count(*id) != 0) return;
  auto it = escalated_.find(*id);
  if (it == escalated_.end()) return;
  const auto v = read_verdict(verdicts_fd_.get(), name, *id, keys_.arbiter);
  if (!v) {
    bus::log_warn("verdict_refused", {{"request_id", *id}});
    return;
  }
  const json* req = request_for(*id);
  if (req == nullptr) return;
  batch_.push_back(decider_.on_human_verdict(*req, it->second.esc, v->approve, v->by, v->reason));
  in_batch_.insert(*id);
}

void Service::check_timeouts() {
  const auto now = Clock::now();
  for (const auto& [id, p] : pending_) {
    if (in_batch_.count(id) != 0 || final_.count(id) != 0 || escalated_.count(id) != 0) continue;
    if (now - p.since >= cfg_.assessment_timeout) {
      batch_.push_back(decider_.on_assessment_timeout(p.request));
      in_batch_.insert(id);
    }
  }
  for (const auto& [id, e] : escalated_) {
    if (in_batch_.count(id) != 0 || now - e.since < cfg_.human_timeout) continue;
    if (const json* req = request_for(id)) {
      batch_.push_back(decider_.on_human_timeout(*req, e.esc));
      in_batch_.insert(id);
    }
  }
}

void Service::flush() {
  if (batch_.empty()) return;
  std::vector<Outcome> done;
  done.swap(batch_);
  struct Summary {
    std::string id, decision, method;
    bool final;
    Escalated esc;
  };
  std::vector<Summary> summaries;
  for (const auto& o : done) {
    Summary s{o.request_id, o.decision["payload"]["decision"], o.decision["payload"]["decision_method"], o.final, {}};
    if (!o.final) {
      s.esc.esc.decision_id = o.decision["id"].get<std::string>();
      s.esc.esc.assessment_id = o.decision["payload"]["assessment_id"].get<std::string>();
      s.esc.since = Clock::now();
    }
    summaries.push_back(std::move(s));
  }
  log_.commit(std::move(done));
  for (auto& s : summaries) {
    if (s.final) {
      final_.insert(s.id);
      escalated_.erase(s.id);
    } else {
      if (auto it = batch_assessments_.find(s.id); it != batch_assessments_.end()) s.esc.esc.assessment_payload = it->second;
      escalated_[s.id] = s.esc;
    }
    pending_.erase(s.id);
    bus::log_info("decision", {{"request_id", s.id}, {"decision", s.decision}, {"method", s.method}});
  }
  in_batch_.clear();
  batch_assessments_.clear();
}

void Service::rescan() {
  for (const auto& n : bus::list_names(requests_.fd())) {
    on_request(n);
    if (batch_.size() >= cfg_.max_batch) flush();
  }
  for (const auto& n : bus::list_names(verdicts_fd_.get())) on_verdict(n);
  flush();
}

int Service::run(const bus::StopSignal& stop) {
  bus::DirWatcher watcher({layout_.pending_review(), layout_.assessments(), verdicts_dir_});
  rescan();  // after the watch is set up, so nothing falls between the two
  auto last_rescan = std::chrono::steady_clock::now();
  bus::log_info("arbiter_ready", {{"base", layout_.base}});
  for (;;) {
    auto b = watcher.wait(std::chrono::milliseconds(1000), &stop);
    if (b.stop) break;
    for (const auto& [dir, name] : b.names) {
      if (dir == 0) on_request(name);
      if (dir == 1) on_assessment(name);
      if (dir == 2) on_verdict(name);
      if (batch_.size() >= cfg_.max_batch) flush();
    }
    check_timeouts();
    flush();
    if (b.rescan || std::chrono::steady_clock::now() - last_rescan >= cfg_.rescan_interval) {
      rescan();
      last_rescan = std::chrono::steady_clock::now();
    }
  }
  // Work already decided in memory is committed; nothing half-written remains.
  flush();
  bus::log_info("arbiter_stopped", {});
  return 0;
}

}  // namespace nonaxis::arbiter
