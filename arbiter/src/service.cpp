#include "service.hpp"

#include <sys/stat.h>

#include "execution_report.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/metrics.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "verdict.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;
using Clock = std::chrono::system_clock;
using bus::Metrics;

namespace {

void describe_metrics() {
  auto& m = Metrics::global();
  m.describe("nonaxis_requests_total", Metrics::Type::kCounter, "Messages decided, by message type and outcome");
  m.describe("nonaxis_decisions_total", Metrics::Type::kCounter, "Decisions committed, by outcome and deciding rule");
  m.describe("nonaxis_tokens_issued_total", Metrics::Type::kCounter, "Execution tokens issued");
  m.describe("nonaxis_escalations_pending", Metrics::Type::kGauge, "Escalations waiting for a human");
  m.describe("nonaxis_queue_depth", Metrics::Type::kGauge, "Items waiting, per queue");
  m.describe("nonaxis_queue_oldest_age_seconds", Metrics::Type::kGauge, "Age of the oldest waiting item, per queue");
  m.describe("nonaxis_decision_latency_seconds", Metrics::Type::kHistogram, "From the request's timestamp to its committed decision");
  m.describe("nonaxis_dead_letters_total", Metrics::Type::kCounter, "Refused input, by reason");
  m.add("nonaxis_tokens_issued_total", {}, 0);
}

}  // namespace

std::string api_inbox_dir(const bus::Layout& layout) { return layout.private_dir(bus::Role::kArbiter) + "/api-inbox"; }

Service::Service(const bus::Layout& layout, const Keys& keys, const Policy& policy, DeciderConfig dcfg, ServiceConfig scfg)
    : layout_(layout),
      keys_(keys),
      decider_(policy, keys.arbiter.current(), keys.token.current(), dcfg),
      cfg_(scfg),
      dead_(layout, bus::Role::kArbiter),
      requests_(layout.pending_review(), keys.operator_, bus::Kind::kRequest, dead_),
      assessments_(layout.assessments(), keys.ciso, bus::Kind::kAssessment, dead_),
      proposals_(layout.pending_review(), keys.operator_, bus::Kind::kProposal, dead_),
      handoffs_(layout.pending_review(), keys.operator_, bus::Kind::kHandoff, dead_),
      api_proposals_(api_inbox_dir(layout), keys.operator_, bus::Kind::kProposal, dead_),
      api_handoffs_(api_inbox_dir(layout), keys.operator_, bus::Kind::kHandoff, dead_),
      verdicts_dir_(verdicts_dir(layout)),
      verdicts_fd_(bus::open_dir(verdicts_dir_)),
      log_(layout, keys.arbiter.current()),
      state_(layout, policy, keys.arbiter.current(), dcfg.human_timeout_minutes) {
  if (keys.sandbox) {
    executions_ = std::make_unique<bus::Inbox>(layout.pending_review(), *keys.sandbox, bus::Kind::kExecution, dead_);
  }
  describe_metrics();
  for (const auto& d : {layout.decisions(), layout.tokens(), layout.state(), layout.snapshots(), layout.handoffs(), verdicts_dir_,
                        api_inbox_dir(layout)}) {
    bus::UniqueFd fd = bus::open_dir(d);
    bus::remove_stale_temps(fd.get());
  }
  if (auto genesis = state_.seed(cfg_.initial_state_path)) log_.commit({std::move(*genesis)});
  load_decided();
}

bus::Inbox& Service::state_inbox(Dir dir, bus::Kind kind) {
  if (dir == kApiInbox) return kind == bus::Kind::kHandoff ? api_handoffs_ : api_proposals_;
  return kind == bus::Kind::kHandoff ? handoffs_ : proposals_;
}

std::optional<json> Service::find_state_message(const std::string& id) {
  for (const Dir d : {kPending, kApiInbox}) {
    for (const bus::Kind k : {bus::Kind::kProposal, bus::Kind::kHandoff}) {
      if (auto env = state_inbox(d, k).read(bus::queue_name(id, k), id)) return env;
    }
  }
  return std::nullopt;
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
    if (env["payload"].contains("state_change")) {
      auto msg = find_state_message(id);
      if (!msg) throw std::runtime_error("escalated state change " + id + " is missing from the queues; refusing to start");
      e.state_message = std::move(*msg);
    } else if (e.esc.assessment_id != bus::kNilUuid) {
      if (auto a = assessments_.read(id + ".json", id)) e.esc.assessment_payload = (*a)["payload"];
    }
    escalated_[id] = e;
  }
  bus::log_info("arbiter_state_loaded",
                {{"final_decisions", final_.size()}, {"pending_escalations", escalated_.size()}, {"ledger_entries", log_.ledger_entries()},
                 {"journal_records_replayed", log_.recovered_records()},
                 {"snapshot_id", state_.current() ? (*state_.current())["snapshot_id"] : json(nullptr)}});
}

bool Service::busy(const std::string& id) const {
  return final_.count(id) != 0 || escalated_.count(id) != 0 || in_batch_.count(id) != 0;
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

void Service::on_queue_file(Dir dir, const std::string& name) {
  const auto qn = bus::parse_queue_name(name);
  const bus::Inbox& inbox = dir == kApiInbox ? api_proposals_ : requests_;
  if (!qn || (dir == kApiInbox && qn->kind == bus::Kind::kRequest)) {
    if (!dead_.already_refused(inbox.dir(), name)) {
      dead_.refuse(inbox.dir(), name, "bad_name", "file name is not <uuid>.json, <uuid>.proposal.json or <uuid>.handoff.json");
    }
    return;
  }
  if (qn->kind == bus::Kind::kRequest) {
    on_request(qn->id);
  } else if (qn->kind == bus::Kind::kExecution) {
    if (dir == kPending) on_execution(qn->id);
  } else {
    on_state_message(dir, *qn);
  }
}

void Service::on_request(const std::string& id) {
  if (busy(id)) return;
  if (request_for(id) == nullptr) return;
  // The assessment may already be there (it normally arrives after).
  on_assessment(id + ".json");
}

void Service::on_state_message(Dir dir, const bus::QueueName& qn) {
  if (busy(qn.id)) return;
  auto env = state_inbox(dir, qn.kind).read(bus::queue_name(qn.id, qn.kind), qn.id);
  if (!env) return;
  batch_.push_back(state_.review(*env));
  batch_state_messages_[qn.id] = std::move(*env);
  in_batch_.insert(qn.id);
}

void Service::on_assessment(const std::string& name) {
  const auto id = bus::id_from_name(name);
  if (!id) {
    if (!dead_.already_refused(assessments_.dir(), name)) dead_.refuse(assessments_.dir(), name, "bad_name", "file name is not <uuid>.json");
    return;
  }
  if (busy(*id)) return;
  const json* req = request_for(*id);
  if (req == nullptr) return;
  auto assessment = assessments_.read(name, *id);
  if (!assessment) return;
  batch_.push_back(decider_.on_assessment(*req, *assessment));
  batch_assessments_[*id] = (*assessment)["payload"];  // kept for an escalation's later human verdict
  in_batch_.insert(*id);
}

void Service::on_execution(const std::string& request_id) {
  const std::string name = bus::queue_name(request_id, bus::Kind::kExecution);
  if (one_offs_seen_.count(name) != 0 || in_batch_.count(name) != 0) return;
  if (!executions_) {
    if (!dead_.already_refused(requests_.dir(), name)) {
      dead_.refuse(requests_.dir(), name, "no_sandbox_key", "execution records need GOVERNANCE_SIGNING_KEY_SANDBOX at the Arbiter");
    }
    return;
  }
  auto record = executions_->read(name, request_id);
  if (!record) return;
  one_offs_seen_.insert(name);
  if (log_.recorded((*record)["id"].get<std::string>())) return;
  json token;
  {
    bus::UniqueFd dir = bus::open_dir(layout_.tokens());
    const auto r = bus::read_queue_file(dir.get(), request_id + ".json", {64 * 1024, bus::owner_of(dir.get())});
    if (r.ok()) token = json::parse(r.data, nullptr, false);
  }
  if (auto why = execution_mismatch(*record, token)) {
    dead_.refuse(requests_.dir(), name, "token_mismatch", *why, bus::canonical_dump(*record));
    return;
  }
  batch_.push_back(execution_outcome(request_id, *record));
  in_batch_.insert(name);
}

void Service::on_rollback(const std::string& name) {
  if (one_offs_seen_.count(name) != 0) return;
  const auto order = read_rollback(verdicts_fd_.get(), name, keys_.arbiter);
  one_offs_seen_.insert(name);
  if (!order) {
    bus::log_warn("rollback_order_refused", {{"reason", "unsigned or malformed"}});
    return;
  }
  if (log_.recorded(order->id)) return;
  if (auto o = state_.rollback(*order)) {
    batch_.push_back(std::move(*o));
    in_batch_.insert(order->id);
  }
}

void Service::on_verdict(const std::string& name) {
  if (name.size() > 36 && name.compare(36, std::string::npos, kRollbackSuffix) == 0) {
    on_rollback(name);
    return;
  }
  const auto id = bus::id_from_name(name);
  if (!id || final_.count(*id) != 0 || in_batch_.count(*id) != 0) return;
  auto it = escalated_.find(*id);
  if (it == escalated_.end()) return;
  const auto v = read_verdict(verdicts_fd_.get(), name, *id, keys_.arbiter);
  if (!v) {
    bus::log_warn("verdict_refused", {{"request_id", *id}});
    return;
  }
  if (!it->second.state_message.is_null()) {
    batch_.push_back(state_.on_human_verdict(it->second.state_message, it->second.esc, v->approve, v->by, v->reason));
  } else if (const json* req = request_for(*id)) {
    batch_.push_back(decider_.on_human_verdict(*req, it->second.esc, v->approve, v->by, v->reason));
  } else {
    return;
  }
  in_batch_.insert(*id);
}

void Service::check_timeouts() {
  const auto now = Clock::now();
  for (const auto& [id, p] : pending_) {
    if (busy(id)) continue;
    if (now - p.since >= cfg_.assessment_timeout) {
      batch_.push_back(decider_.on_assessment_timeout(p.request));
      in_batch_.insert(id);
    }
  }
  for (const auto& [id, e] : escalated_) {
    if (in_batch_.count(id) != 0 || now - e.since < cfg_.human_timeout) continue;
    if (!e.state_message.is_null()) {
      batch_.push_back(state_.on_human_timeout(e.state_message, e.esc));
    } else if (const json* req = request_for(id)) {
      batch_.push_back(decider_.on_human_timeout(*req, e.esc));
    } else {
      continue;
    }
    in_batch_.insert(id);
  }
}

void Service::flush() {
  if (batch_.empty()) return;
  std::vector<Outcome> done;
  done.swap(batch_);
  struct Summary {
    std::string id, type, decision, method, rule, submitted_at;
    bool final, token;
    Escalated esc;
  };
  std::vector<Summary> summaries;
  for (const auto& o : done) {
    if (o.decision.is_null()) continue;
    const json& p = o.decision["payload"];
    Summary s{o.request_id, o.message_type, p["decision"], p["decision_method"], o.rule_id, o.submitted_at, o.final, o.token.has_value(), {}};
    if (!o.final) {
      s.esc.esc.decision_id = o.decision["id"].get<std::string>();
      s.esc.esc.assessment_id = p["assessment_id"].get<std::string>();
      s.esc.since = Clock::now();
    }
    summaries.push_back(std::move(s));
  }
  std::vector<std::string> one_off_types;
  for (const auto& o : done) {
    if (o.decision.is_null()) one_off_types.push_back(o.message_type);
  }
  log_.commit(std::move(done));
  const auto now = Clock::now();
  auto& m = Metrics::global();
  for (const auto& t : one_off_types) m.add("nonaxis_requests_total", {{"type", t}, {"outcome", "recorded"}});
  for (auto& s : summaries) {
    if (s.final) {
      final_.insert(s.id);
      escalated_.erase(s.id);
    } else {
      if (auto it = batch_assessments_.find(s.id); it != batch_assessments_.end()) s.esc.esc.assessment_payload = it->second;
      if (auto it = batch_state_messages_.find(s.id); it != batch_state_messages_.end()) s.esc.state_message = it->second;
      escalated_[s.id] = s.esc;
    }
    pending_.erase(s.id);
    m.add("nonaxis_requests_total", {{"type", s.type}, {"outcome", s.decision}});
    m.add("nonaxis_decisions_total", {{"outcome", s.decision}, {"rule", s.rule}});
    if (s.token) m.add("nonaxis_tokens_issued_total");
    if (const auto t = bus::parse_rfc3339(s.submitted_at); t && *t <= now) {
      m.observe("nonaxis_decision_latency_seconds", std::chrono::duration<double>(now - *t).count(), {{"method", s.method}});
    }
    bus::log_info("decision", {{"request_id", s.id}, {"type", s.type}, {"decision", s.decision}, {"method", s.method}, {"rule", s.rule}});
  }
  in_batch_.clear();
  batch_assessments_.clear();
  batch_state_messages_.clear();
}

// Per directory, as every daemon labels them: `pending-review` holds requests the
// Arbiter has no assessment for yet, `assessments` those assessed whose decision is not
// durable yet (the open batch); `escalations` is the human queue.
void Service::update_gauges() {
  const auto now = Clock::now();
  struct Gauge {
    std::size_t depth = 0;
    Clock::time_point oldest;
    void add(Clock::time_point since) {
      oldest = depth == 0 ? since : std::min(oldest, since);
      ++depth;
    }
  };
  Gauge waiting, assessed, humans;
  for (const auto& [id, p] : pending_) {
    if (in_batch_.count(id) != 0) {
      assessed.add(p.since);
    } else if (!busy(id)) {
      waiting.add(p.since);
    }
  }
  for (const auto& [id, e] : escalated_) humans.add(e.since);
  auto& m = Metrics::global();
  for (const auto& [queue, g] : {std::pair<const char*, const Gauge&>{"pending-review", waiting}, {"assessments", assessed}, {"escalations", humans}}) {
    m.set("nonaxis_queue_depth", {{"queue", queue}}, static_cast<double>(g.depth));
    m.set("nonaxis_queue_oldest_age_seconds", {{"queue", queue}},
          g.depth == 0 ? 0.0 : std::chrono::duration<double>(now - g.oldest).count());
  }
  m.set("nonaxis_escalations_pending", {}, static_cast<double>(humans.depth));
}

void Service::rescan() {
  for (const Dir d : {kPending, kApiInbox}) {
    const int fd = d == kPending ? requests_.fd() : api_proposals_.fd();
    for (const auto& n : bus::list_names(fd)) {
      on_queue_file(d, n);
      if (batch_.size() >= cfg_.max_batch) flush();
    }
  }
  for (const auto& n : bus::list_names(verdicts_fd_.get())) on_verdict(n);
  flush();
}

int Service::run(const bus::StopSignal& stop, bus::HttpSurface* surface, bus::Heartbeat* heartbeat) {
  bus::DirWatcher watcher({layout_.pending_review(), layout_.assessments(), verdicts_dir_, api_inbox_dir(layout_)});
  rescan();  // after the watch is set up, so nothing falls between the two
  auto last_rescan = std::chrono::steady_clock::now();
  bus::log_info("arbiter_ready", {{"base", layout_.base}});
  for (;;) {
    if (heartbeat != nullptr) heartbeat->beat();
    update_gauges();
    auto b = watcher.wait(std::chrono::milliseconds(1000), &stop);
    if (b.stop) break;
    for (const auto& [dir, name] : b.names) {
      if (dir == kPending || dir == kApiInbox) on_queue_file(static_cast<Dir>(dir), name);
      if (dir == kAssessments) on_assessment(name);
      if (dir == kVerdicts) on_verdict(name);
      if (batch_.size() >= cfg_.max_batch) flush();
    }
    check_timeouts();
    flush();
    if (b.rescan || std::chrono::steady_clock::now() - last_rescan >= cfg_.rescan_interval) {
      rescan();
      last_rescan = std::chrono::steady_clock::now();
    }
  }
  // Drain: take no new work; commit what is already decided in memory. Anything
  // still unread stays in its queue for the next start.
  if (surface != nullptr) surface->set_draining();
  bus::log_info("arbiter_draining", {{"batched", batch_.size()}, {"timeout_seconds", cfg_.drain_timeout.count()}});
  bus::arm_drain_deadline(cfg_.drain_timeout);
  flush();
  bus::log_info("arbiter_stopped", {});
  return 0;
}

}  // namespace nonaxis::arbiter
