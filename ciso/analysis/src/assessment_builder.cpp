#include "assessment_builder.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "filesystem_extractor.hpp"
#include "text_position.hpp"

namespace nonaxis::ciso::detail {
namespace {

constexpr std::size_t kMaxListed = 200;  // cap per checklist list so payloads stay small

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

int level_rank(Level l) { return static_cast<int>(l); }

const char* concern_severity(Severity s) {
  switch (s) {
    case Severity::Critical: return "critical";
    case Severity::High:
    case Severity::Medium: return "warning";
    case Severity::Low: return "info";
  }
  return "info";
}

}  // namespace

// Issue 4's bands. The default Arbiter policy approves only below 30 and escalates everything
// else short of a reject, so "approve" at 30..49 would be a recommendation it never follows.
const char* recommendation_for(int score) {
  if (score >= 90) return "reject";
  if (score >= 30) return "escalate";
  return "approve";
}

bool host_declared(const std::string& host, int port, const std::vector<std::string>& declared) {
  for (const std::string& d0 : declared) {
    std::string d = lower(d0);
    // Accept "host", "host:port", "*.domain", and URLs.
    if (auto p = d.find("://"); p != std::string::npos) d = d.substr(p + 3);
    if (auto p = d.find('/'); p != std::string::npos) d = d.substr(0, p);
    int dport = 0;
    if (auto p = d.rfind(':'); p != std::string::npos && d.find(':') == p) {
      dport = std::atoi(d.c_str() + p + 1);
      d = d.substr(0, p);
    }
    if (dport != 0 && port != 0 && dport != port) continue;
    if (d == host) return true;
    if (d.size() > 2 && d.rfind("*.", 0) == 0) {
      const std::string suffix = d.substr(1);
      if (host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
    }
  }
  return false;
}

nlohmann::json build_assessment(const BuildInput& in) {
  using nlohmann::json;
  const Evidence& ev = in.evidence;
  // Line tables are built only when something must be located (most requests find nothing).
  const LineIndex content_lines(ev.findings.empty() ? std::string_view() : in.content);
  const LineIndex context_lines(ev.findings.empty() ? std::string_view() : in.context);

  // Findings, one per (rule, position).
  json findings = json::array();
  std::set<std::pair<std::string, std::size_t>> seen;
  std::map<std::string, std::size_t> per_rule_count;
  std::map<std::string, const Finding*> first_of_rule;
  for (const Finding& f : ev.findings) {
    const Position pos = f.in_context ? context_lines.at(f.offset) : content_lines.at(f.offset);
    if (!seen.insert({f.rule->id + (f.in_context ? "@ctx" : ""), pos.line}).second) continue;
    ++per_rule_count[f.rule->id];
    first_of_rule.emplace(f.rule->id, &f);
    if (findings.size() >= kMaxListed) continue;
    std::string msg = f.rule->description;
    if (f.in_context) msg += " [in operator context]";
    else if (!f.layer.empty()) msg += " [in " + f.layer + "]";
    if (!f.excerpt.empty()) msg += ": " + f.excerpt;
    findings.push_back({{"rule_id", f.rule->id},
                        {"category", f.rule->category},
                        {"severity", to_string(f.rule->severity)},
                        {"line", pos.line},
                        {"column", pos.column},
                        {"message", msg}});
  }

  // Checklist evidence.
  json outbound = json::array();
  std::set<std::string> conn_seen;
  bool undocumented = false;
  for (const Connection& c : ev.connections) {
    const std::string key = c.host + ":" + std::to_string(c.port) + "/" + c.protocol;
    if (!conn_seen.insert(key).second || outbound.size() >= kMaxListed) continue;
    const bool documented = host_declared(c.host, c.port, in.declared_hosts);
    undocumented = undocumented || !documented;
    outbound.push_back({{"host", c.host}, {"port", c.port}, {"protocol", c.protocol}, {"purpose", c.purpose},
                        {"documented", documented}});
  }
  json writes = json::array();
  std::set<std::string> write_seen;
  for (const FsWrite& w : ev.writes) {
    if (!write_seen.insert(w.operation + " " + w.path).second || writes.size() >= kMaxListed) continue;
    writes.push_back({{"path", w.path}, {"operation", w.operation}, {"concern", path_concern(w.path)}});
  }

  Level exfil = Level::None;
  Level privesc = Level::None;
  bool obfuscated = false;
  std::vector<std::string> obfuscation_reasons;
  json vulns = json::array();
  json injections = json::array();
  json concerns = json::array();
  bool critical_flag = false;
  for (const auto& [id, f] : first_of_rule) {
    const Rule& r = *f->rule;
    if (level_rank(r.exfiltration) > level_rank(exfil)) exfil = r.exfiltration;
    if (level_rank(r.privilege_escalation) > level_rank(privesc)) privesc = r.privilege_escalation;
    if (r.obfuscation) {
      obfuscated = true;
      obfuscation_reasons.push_back(r.description + (f->layer.empty() ? "" : " [" + f->layer + "]"));
    }
    if (r.vuln_pattern && !r.prompt_injection) {
      vulns.push_back({{"pattern", r.id}, {"severity", to_string(r.severity)}, {"description", r.description}});
    }
    if (r.prompt_injection) {
      std::string loc = "context";
      if (!f->in_context) loc = "content line " + std::to_string(content_lines.at(f->offset).line);
      injections.push_back({{"location", loc}, {"technique", r.description}, {"severity", to_string(r.severity)}});
    }
    critical_flag = critical_flag || r.severity == Severity::Critical;
    concerns.push_back({{"severity", concern_severity(r.severity)}, {"description", r.description}});
  }
  if (undocumented) {
    if (exfil == Level::None) exfil = Level::Low;  // any undeclared destination can carry data out
    concerns.push_back({{"severity", "warning"}, {"description", "outbound connection to a host not in declared_hosts"}});
  }

  // Score: distinct rules combined as independent evidence, strongest first:
  // score = 100 * (1 - prod(1 - w_i/100)). Each rule's contribution is what it added.
  std::vector<const Finding*> ordered;
  for (const auto& [id, f] : first_of_rule) ordered.push_back(f);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Finding* x, const Finding* y) { return x->rule->weight > y->rule->weight; });
  double remaining = 1.0;
  json explanation = json::array();
  for (const Finding* f : ordered) {
    const double before = 1.0 - remaining;
    remaining *= 1.0 - f->rule->weight / 100.0;
    const double added = (1.0 - remaining) - before;
    if (!in.explain) continue;
    const Position pos = f->in_context ? context_lines.at(f->offset) : content_lines.at(f->offset);
    explanation.push_back({{"rule_id", f->rule->id},
                           {"category", f->rule->category},
                           {"severity", to_string(f->rule->severity)},
                           {"weight", f->rule->weight},
                           {"occurrences", per_rule_count[f->rule->id]},
                           {"line", pos.line},
                           {"contribution", std::round(added * 1000.0) / 10.0},
                           {"running_score", std::round((1.0 - remaining) * 1000.0) / 10.0}});
  }
  int score = static_cast<int>(std::lround((1.0 - remaining) * 100.0));

  // Checklist flags that the policy rejects on must not sit under a score that says "approve".
  const bool reject_flag = obfuscated || exfil == Level::High || privesc == Level::High || critical_flag;
  if (reject_flag && score < 90) {
    explanation.push_back({{"rule_id", "policy.reject_floor"},
                           {"contribution", 90 - score},
                           {"reason", "checklist carries a reject-level flag (obfuscation, high exfiltration or "
                                      "privilege escalation, or a critical pattern); score raised to the reject band"}});
    score = 90;
  }
  score = std::clamp(score, 0, 100);

  std::string details;
  for (const std::string& r : obfuscation_reasons) details += (details.empty() ? "" : "; ") + r;
  if (!obfuscated) details = ev.decoded_layers > 0 ? "encoded data was decoded and found harmless" : "none found";

  std::string notes = "language=" + (ev.language.empty() ? std::string("shell") : ev.language) +
                      "; commands=" + std::to_string(ev.commands) +
                      "; decoded_layers=" + std::to_string(ev.decoded_layers) +
                      "; findings=" + std::to_string(findings.size()) + "; score=" + std::to_string(score) + " (" +
                      recommendation_for(score) + ")";
  if (!in.action_type.empty()) notes += "; action_type=" + std::string(in.action_type);
  for (const std::string& l : ev.layer_notes) notes += "; " + l;

  json permissions = json::array();
  for (const std::string& p : ev.permissions) permissions.push_back(p);

  // Moved, not copied: nlohmann's initializer lists deep-copy every lvalue they are given.
  json out = {{"risk_score", score},
              {"recommendation", recommendation_for(score)},
              {"checklist",
               {{"outbound_connections", std::move(outbound)},
                {"filesystem_writes", std::move(writes)},
                {"permission_requests", std::move(permissions)},
                {"obfuscation_detected", obfuscated},
                {"obfuscation_details", std::move(details)},
                {"known_vuln_patterns", std::move(vulns)},
                {"prompt_injection_vectors", std::move(injections)},
                {"data_exfiltration_risk", to_string(exfil)},
                {"privilege_escalation_risk", to_string(privesc)}}},
              {"concerns", std::move(concerns)},
              {"analysis_notes", std::move(notes)},
              {"findings", std::move(findings)}};
  if (in.explain) out["explanation"] = std::move(explanation);
  return out;
}

nlohmann::json fail_closed_assessment(const std::string& reason) {
  using nlohmann::json;
  return {{"risk_score", 100},
          {"recommendation", "reject"},
          {"checklist",
           {{"outbound_connections", json::array()},
            {"filesystem_writes", json::array()},
            {"permission_requests", json::array()},
            {"obfuscation_detected", false},
            {"obfuscation_details", "not determined: analysis did not complete"},
            {"known_vuln_patterns", json::array()},
            {"prompt_injection_vectors", json::array()},
            {"data_exfiltration_risk", "none"},
            {"privilege_escalation_risk", "none"}}},
          {"concerns", json::array({{{"severity", "critical"}, {"description", "analysis failed closed: " + reason}}})},
          {"analysis_notes", "fail-closed: " + reason},
          {"findings", json::array({{{"rule_id", "analyzer.fail_closed"},
                                     {"category", "analyzer"},
                                     {"severity", "critical"},
                                     {"line", 1},
                                     {"column", 1},
                                     {"message", reason}}})},
          {"explanation", json::array({{{"rule_id", "analyzer.fail_closed"}, {"contribution", 100}, {"reason", reason}}})}};
}

}  // namespace nonaxis::ciso::detail
