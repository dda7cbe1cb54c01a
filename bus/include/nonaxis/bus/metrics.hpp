#pragma once
// Process-wide metrics in the Prometheus text exposition format (version 0.0.4),
// served on /metrics. Counters and gauges carry labels; the one histogram kind
// measures seconds with fixed buckets from 1 ms to 1 h.
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nonaxis::bus {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  static Metrics& global();

  // Declares a family so that it is exposed (with its HELP line) before its first sample.
  void describe(const std::string& name, Type type, const std::string& help);
  void add(const std::string& name, const Labels& labels = {}, double v = 1);  // counter
  void set(const std::string& name, const Labels& labels, double v);           // gauge
  void observe(const std::string& name, double seconds, const Labels& labels = {});  // histogram

  std::string render() const;
  // The value of one sample (tests); 0 when absent.
  double value(const std::string& name, const Labels& labels = {}) const;

 private:
  struct Histogram {
    std::vector<double> counts;  // per bucket, not cumulative
    double sum = 0;
    double count = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<std::string, double> samples;     // rendered label set -> value
    std::map<std::string, Histogram> histos;  // rendered label set -> histogram
  };
  Family& family(const std::string& name, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Renders {k="v",...} with Prometheus escaping; "" for no labels.
std::string render_labels(const Labels& labels);

}  // namespace nonaxis::bus
