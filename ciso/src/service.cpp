#include "service.hpp"

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/metrics.hpp"
#include "nonaxis/bus/queue_gauges.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::ciso {

using nlohmann::json;

namespace {
constexpr std::size_t kMaxBatch = 256;
}

json assess_request(const Analyzer& analyzer, const json& request, bool explain) {
  try {
    const json& p = request["payload"];
    const bus::ActionContent content = bus::request_content(p);
    AnalysisInput in;
    in.content = content.bytes;
    in.is_command = content.is_command;
    in.action_type = p["action_type"].get<std::string>();
    in.declared_hosts = p.value("outbound_hosts", std::vector<std::string>{});
    in.context = p.value("context", std::string());
    return analyzer.analyze(in, explain);
  } catch (const std::exception& e) {
    return Analyzer::fail_closed(e.what());
  }
}

Service::Service(const bus::Layout& layout, const bus::KeyRing& ciso_keys, const bus::KeyRing& operator_keys,
                 const Analyzer& analyzer, std::chrono::seconds rescan_interval)
    : layout_(layout),
      ciso_keys_(ciso_keys),
      analyzer_(analyzer),
      rescan_interval_(rescan_interval),
      dead_(layout, bus::Role::kCiso),
      requests_(layout.pending_review(), operator_keys, bus::Kind::kRequest, dead_),
      out_dir_(bus::open_dir(layout.assessments())) {
  auto& m = bus::Metrics::global();
  m.describe("nonaxis_requests_total", bus::Metrics::Type::kCounter, "Requests assessed, by request type and recommendation");
  m.describe("nonaxis_assessment_latency_seconds", bus::Metrics::Type::kHistogram, "From the request's timestamp to its durable assessment");
  m.describe("nonaxis_queue_depth", bus::Metrics::Type::kGauge, "Requests without an assessment, per queue (at the last rescan)");
  m.describe("nonaxis_queue_oldest_age_seconds", bus::Metrics::Type::kGauge, "Age of the oldest request without an assessment");
  m.describe("nonaxis_dead_letters_total", bus::Metrics::Type::kCounter, "Refused input, by reason");
  bus::remove_stale_temps(out_dir_.get());
  for (const auto& n : bus::list_names(out_dir_.get())) {
    if (auto id = bus::id_from_name(n)) done_.insert(*id);
  }
  bus::log_info("ciso_state_loaded", {{"assessments", done_.size()}});
}

void Service::consider(const std::string& name) {
  const auto qn = bus::parse_queue_name(name);
  if (!qn) {
    if (!dead_.already_refused(requests_.dir(), name)) dead_.refuse(requests_.dir(), name, "bad_name", "file name is not <uuid>.json");
    return;
  }
  // Handoffs and state proposals are the Arbiter's to review, not content to analyse.
  if (qn->kind != bus::Kind::kRequest) return;
  const std::optional<std::string> id = qn->id;
  if (done_.count(*id) != 0 || in_batch_.count(*id) != 0) return;
  auto request = requests_.read(name, *id);
  if (!request) return;
  json payload = assess_request(analyzer_, *request);
  payload["review_request_id"] = *id;
  const json env = bus::make_envelope(bus::MessageType::kAssessment, payload, bus::envelope_hash(*request), ciso_keys_.current());
  batch_.add(out_dir_.get(), *id + ".json", bus::canonical_dump(env) + "\n");
  in_batch_.insert(*id);
  batch_metrics_.emplace_back((*request)["type"].get<std::string>(), payload["recommendation"].get<std::string>());
  if (const auto t = bus::parse_rfc3339((*request)["timestamp"].get<std::string>())) {
    const auto age = std::chrono::system_clock::now() - *t;
    if (age.count() >= 0) bus::Metrics::global().observe("nonaxis_assessment_latency_seconds", std::chrono::duration<double>(age).count());
  }
  bus::log_info("assessed", {{"request_id", *id}, {"risk_score", payload["risk_score"]}, {"recommendation", payload["recommendation"]}});
  if (in_batch_.size() >= kMaxBatch) flush();
}

void Service::flush() {
  if (batch_.empty()) return;
  const auto outcomes = batch_.commit();
  for (auto o : outcomes) {
    if (o == bus::WriteOutcome::kAlreadyExists) bus::log_warn("duplicate_assessment_ignored", {});
  }
  done_.insert(in_batch_.begin(), in_batch_.end());
  in_batch_.clear();
  for (const auto& [type, rec] : batch_metrics_) bus::Metrics::global().add("nonaxis_requests_total", {{"type", type}, {"outcome", rec}});
  batch_metrics_.clear();
}

void Service::rescan() {
  for (const auto& n : bus::list_names(requests_.fd())) consider(n);
  flush();
  update_queue_gauges();
}

// Requests still without an assessment after a rescan: those refused as invalid are
// in the dead-letter count instead, so they are not counted here.
void Service::update_queue_gauges() {
  bus::publish_queue_gauges(requests_.fd(), "pending-review", [this](const std::string& n) {
    const auto qn = bus::parse_queue_name(n);
    return qn && qn->kind == bus::Kind::kRequest && done_.count(qn->id) == 0 && !dead_.already_refused(requests_.dir(), n);
  });
}

int Service::run(const bus::StopSignal& stop, bus::HttpSurface* surface, bus::Heartbeat* heartbeat,
                 std::chrono::seconds drain_timeout) {
  bus::DirWatcher watcher({layout_.pending_review()});
  rescan();
  auto last = std::chrono::steady_clock::now();
  bus::log_info("ciso_ready", {{"base", layout_.base}});
  for (;;) {
    if (heartbeat != nullptr) heartbeat->beat();
    const auto b = watcher.wait(std::chrono::milliseconds(1000), &stop);
    if (b.stop) break;
    for (const auto& [dir, name] : b.names) consider(name);
    flush();
    if (b.rescan || std::chrono::steady_clock::now() - last >= rescan_interval_) {
      rescan();
      last = std::chrono::steady_clock::now();
    }
  }
  // Drain: take no new work; make the assessments already computed durable.
  if (surface != nullptr) surface->set_draining();
  bus::log_info("ciso_draining", {{"batched", in_batch_.size()}, {"timeout_seconds", drain_timeout.count()}});
  bus::arm_drain_deadline(drain_timeout);
  flush();
  bus::log_info("ciso_stopped", {});
  return 0;
}

}  // namespace nonaxis::ciso
