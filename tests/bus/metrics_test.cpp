// The Prometheus text exposition of Metrics.
#include <gtest/gtest.h>

#include "nonaxis/bus/metrics.hpp"

namespace nonaxis::bus {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Metrics m;
  m.describe("x_total", Metrics::Type::kCounter, "Things");
  m.add("x_total", {{"outcome", "approve"}});
  m.add("x_total", {{"outcome", "approve"}}, 2);
  m.set("depth", {{"queue", "a\"b"}}, 4);
  m.observe("lat_seconds", 0.003);
  m.observe("lat_seconds", 2);
  const std::string t = m.render();
  EXPECT_NE(t.find("# HELP x_total Things\n# TYPE x_total counter\nx_total{outcome=\"approve\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("depth{queue=\"a\\\"b\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.001\"} 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("lat_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << t;
  EXPECT_NE(t.find("lat_seconds_count 2\n"), std::string::npos) << t;
  EXPECT_EQ(m.value("x_total", {{"outcome", "approve"}}), 3);
  EXPECT_EQ(m.value("lat_seconds"), 2);
}

}  // namespace
}  // namespace nonaxis::bus
