#include "nonaxis/bus/metrics.hpp"

#include <array>
#include <cmath>
#include <charconv>

namespace nonaxis::bus {

namespace {

constexpr std::array<double, 14> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600};

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest text that reads back as the same double ("0.005", not "0.0050000000000000001").
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const char* type_name(Metrics::Type t) {
  switch (t) {
    case Metrics::Type::kCounter:
      return "counter";
    case Metrics::Type::kGauge:
      return "gauge";
    case Metrics::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// The label set with one more label appended (for histogram buckets).
std::string with_le(const std::string& rendered, const std::string& le) {
  const std::string l = "le=\"" + le + "\"";
  if (rendered.empty()) return "{" + l + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + l + "}";
}

}  // namespace

std::string render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out += ',';
    out += labels[i].first + "=\"";
    for (const char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "}";
}

Metrics& Metrics::global() {
  static Metrics m;
  return m;
}

Metrics::Family& Metrics::family(const std::string& name, Type type) {
  Family& f = families_[name];
  f.type = type;
  return f;
}

void Metrics::describe(const std::string& name, Type type, const std::string& help) {
  std::lock_guard lk(mu_);
  family(name, type).help = help;
}

void Metrics::add(const std::string& name, const Labels& labels, double v) {
  std::lock_guard lk(mu_);
  family(name, Type::kCounter).samples[render_labels(labels)] += v;
}

void Metrics::set(const std::string& name, const Labels& labels, double v) {
  std::lock_guard lk(mu_);
  family(name, Type::kGauge).samples[render_labels(labels)] = v;
}

void Metrics::observe(const std::string& name, double seconds, const Labels& labels) {
  std::lock_guard lk(mu_);
  Histogram& h = family(name, Type::kHistogram).histos[render_labels(labels)];
  if (h.counts.empty()) h.counts.assign(kBuckets.size(), 0);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      h.counts[i] += 1;
      break;
    }
  }
  h.sum += seconds;
  h.count += 1;
}

double Metrics::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lk(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  const std::string key = render_labels(labels);
  if (auto s = it->second.samples.find(key); s != it->second.samples.end()) return s->second;
  if (auto h = it->second.histos.find(key); h != it->second.histos.end()) return h->second.count;
  return 0;
}

std::string Metrics::render() const {
  std::lock_guard lk(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + type_name(f.type) + "\n";
    for (const auto& [labels, v] : f.samples) out += name + labels + " " + number(v) + "\n";
    for (const auto& [labels, h] : f.histos) {
      double cumulative = 0;
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        out += name + "_bucket" + with_le(labels, number(kBuckets[i])) + " " + number(cumulative) + "\n";
      }
      out += name + "_bucket" + with_le(labels, "+Inf") + " " + number(h.count) + "\n";
      out += name + "_sum" + labels + " " + number(h.sum) + "\n";
      out += name + "_count" + labels + " " + number(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace nonaxis::bus
