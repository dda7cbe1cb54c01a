// Submit->token latency and throughput of the running pipeline (CISO and Arbiter
// daemons started by bench/pipeline-bench), beside the floor: one durable file
// write (write, fdatasync, rename, directory fsync) on the same filesystem.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/operator/client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace nonaxis;

struct Stats {
  double p50_us = 0, p99_us = 0, per_second = 0;
  std::size_t n = 0;
};

Stats summarize(std::vector<double> us, double wall_s) {
  std::sort(us.begin(), us.end());
  Stats s;
  s.n = us.size();
  if (us.empty()) return s;
  s.p50_us = us[us.size() / 2];
  s.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  s.per_second = static_cast<double>(us.size()) / wall_s;
  return s;
}

// The floor at a given concurrency: `threads` writers each making durable writes
// (write, fdatasync, rename, directory fsync) of request-sized files.
Stats floor_writes(const std::string& dir, int n, int threads) {
  std::filesystem::create_directories(dir);
  bus::UniqueFd fd = bus::open_dir(dir);
  const std::string body(900, 'x');  // about the size of a review request
  std::vector<double> us;
  std::mutex mu;
  std::atomic<int> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (next.fetch_add(1) < n) {
        const auto t0 = Clock::now();
        bus::write_new_file(fd.get(), bus::uuid_v4() + ".json", body);
        const double d = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        std::lock_guard<std::mutex> lock(mu);
        us.push_back(d);
      }
    });
  }
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  std::filesystem::remove_all(dir);
  return summarize(us, wall);
}

Stats pipeline(op::Client& client, int concurrency, int total) {
  std::vector<double> us;
  std::mutex mu;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        const int i = next.fetch_add(1);
        if (i >= total) return;
        op::Action a;
        a.action_type = "exec_unfamiliar";
        a.content.bytes = "echo bench " + std::to_string(t) + "-" + std::to_string(i);
        a.content.is_command = true;
        const auto t0 = Clock::now();
        const auto r = client.submit_and_wait(a, std::chrono::seconds(60));
        const double d = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (r.decision != "approve" || r.token.is_null()) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        us.push_back(d);
      }
    });
  }
  for (auto& th : threads) th.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0) std::cerr << "warning: " << failures << " requests were not approved with a token\n";
  return summarize(us, wall);
}

void row(const char* name, const Stats& s, double floor_p50) {
  std::printf("%-34s n=%-6zu p50=%9.1f us  p99=%9.1f us  %9.1f /s  p50/floor=%.2f\n", name, s.n, s.p50_us, s.p99_us,
              s.per_second, floor_p50 > 0 ? s.p50_us / floor_p50 : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Nonaxis pipeline benchmark (daemons must be running)"};
  int requests = 400, floor_n = 400;
  std::vector<int> concurrency{1, 64};
  app.add_option("--requests", requests, "Requests per concurrency level");
  app.add_option("--floor-writes", floor_n, "Durable writes for the floor");
  app.add_option("--concurrency", concurrency, "Concurrency levels");
  CLI11_PARSE(app, argc, argv);
  const auto layout = bus::Layout::from_env();
  op::Client client(layout, bus::KeyRing::from_env(bus::kEnvKeyOperator));
  // Warm-up: page cache, inotify, first allocations.
  pipeline(client, 1, 20);
  std::printf("machine: %u cores; filesystem of %s\n", std::thread::hardware_concurrency(), layout.base.c_str());
  for (int c : concurrency) {
    const Stats fl = floor_writes(layout.base + "-floor", floor_n, c);
    row(("floor: durable file write, " + std::to_string(c) + " writer(s)").c_str(), fl, fl.p50_us);
    const Stats s = pipeline(client, c, requests);
    row(("submit->token, " + std::to_string(c) + " submitter(s)").c_str(), s, fl.p50_us);
  }
  return 0;
}
