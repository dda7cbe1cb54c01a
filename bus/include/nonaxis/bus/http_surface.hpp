#pragma once
// The operational HTTP surface every daemon serves (docs/CONFIGURATION.md):
//   /livez, /healthz  200 while the process runs, no dependency checks;
//   /readyz           200, or 503 with the reason, from the daemon's readiness check;
//   /metrics          Metrics::global() in the Prometheus text format.
// It binds to loopback unless configured otherwise. cpp-httplib does the HTTP.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace nonaxis::bus {

struct HttpEndpoint {
  std::string host;
  int port = 0;  // 0: an ephemeral port, logged at start (tests)
};

// `<host_var>` (default 127.0.0.1) and `<port_var>` (default `default_port`, 0-65535).
HttpEndpoint http_endpoint_from_env(const char* host_var, const char* port_var, int default_port);

// `var` holding "http://HOST:PORT" (nullopt when unset). ConfigError names `var` otherwise.
std::optional<HttpEndpoint> http_endpoint_from_url_env(const char* var);

class HttpSurface {
 public:
  // Reason the daemon is not ready, or nullopt when it is.
  using Readiness = std::function<std::optional<std::string>()>;

  HttpSurface(HttpEndpoint endpoint, Readiness ready);
  ~HttpSurface();
  HttpSurface(const HttpSurface&) = delete;
  HttpSurface& operator=(const HttpSurface&) = delete;

  // For extra routes, before start().
  httplib::Server& server() { return *server_; }

  // Binds and serves on a background thread; returns the bound port. Throws
  // ConfigError naming the variables when the address cannot be bound.
  int start(const char* host_var, const char* port_var);
  // From now on /readyz answers 503 "draining" (SIGTERM received).
  void set_draining() { draining_ = true; }
  void stop();

 private:
  HttpEndpoint endpoint_;
  Readiness ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> draining_{false};
};

// The service loop's heartbeat: /readyz fails when the loop has not come round
// for `stall` (a wedged loop must not look ready).
class Heartbeat {
 public:
  void beat() { last_.store(std::chrono::steady_clock::now().time_since_epoch().count()); }
  bool stalled(std::chrono::seconds stall) const;

 private:
  std::atomic<long long> last_{std::chrono::steady_clock::now().time_since_epoch().count()};
};

// GET http://host:port/path; prints the body; 0 when the answer is 200, else 1.
int probe_http(const HttpEndpoint& endpoint, const std::string& path);

// After SIGTERM: if the drain has not finished within `timeout`, log and exit with
// kExitDrainTimeout. Every write is atomic (temp + rename) and the Arbiter's commit
// journal is replayed at start, so abandoning in-flight work leaves nothing half-written.
void arm_drain_deadline(std::chrono::seconds timeout);
inline constexpr int kExitDrainTimeout = 75;
// NONAXIS_DRAIN_TIMEOUT_SECONDS (default 20, 1-3600).
std::chrono::seconds drain_timeout_from_env();

}  // namespace nonaxis::bus
