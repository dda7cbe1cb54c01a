#include "nonaxis/bus/http_surface.hpp"

#include <httplib.h>
#include <unistd.h>

#include <iostream>

#include "nonaxis/bus/config.hpp"
#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/metrics.hpp"

namespace nonaxis::bus {

namespace {
constexpr std::size_t kMaxSurfaceBody = 1 << 20;  // routes set their own lower limits

void json_reply(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}
}  // namespace

HttpEndpoint http_endpoint_from_env(const char* host_var, const char* port_var, int default_port) {
  HttpEndpoint e;
  e.host = env_str(host_var, "127.0.0.1");
  if (e.host.size() > 255) throw ConfigError(std::string(host_var) + " is too long");
  e.port = static_cast<int>(env_int(port_var, default_port, 0, 65535));
  return e;
}

std::optional<HttpEndpoint> http_endpoint_from_url_env(const char* var) {
  const std::string url = env_str(var, "");
  if (url.empty()) return std::nullopt;
  const std::string bad = std::string(var) + " must be http://HOST:PORT (got a malformed value)";
  if (url.rfind("http://", 0) != 0) throw ConfigError(bad);
  std::string rest = url.substr(7);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size() || rest.size() > 255) throw ConfigError(bad);
  HttpEndpoint e;
  e.host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) throw ConfigError(bad);
  e.port = std::stoi(port);
  if (e.port < 1 || e.port > 65535) throw ConfigError(bad);
  return e;
}

bool Heartbeat::stalled(std::chrono::seconds stall) const {
  const auto last = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(last_.load()));
  return std::chrono::steady_clock::now() - last > stall;
}

HttpSurface::HttpSurface(HttpEndpoint endpoint, Readiness ready)
    : endpoint_(std::move(endpoint)), ready_(std::move(ready)), server_(std::make_unique<httplib::Server>()) {
  server_->set_payload_max_length(kMaxSurfaceBody);
  server_->set_read_timeout(std::chrono::seconds(5));
  server_->set_write_timeout(std::chrono::seconds(5));
  const auto live = [](const httplib::Request&, httplib::Response& res) { json_reply(res, 200, {{"status", "alive"}}); };
  server_->Get("/livez", live);
  server_->Get("/healthz", live);
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    std::optional<std::string> why;
    if (draining_) {
      why = "draining after SIGTERM";
    } else {
      try {
        why = ready_();
      } catch (const std::exception& e) {
        why = e.what();
      }
    }
    if (why) {
      json_reply(res, 503, {{"status", "not_ready"}, {"reason", *why}});
    } else {
      json_reply(res, 200, {{"status", "ready"}});
    }
  });
  server_->Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(Metrics::global().render(), "text/plain; version=0.0.4");
  });
  // Every unknown route and every error is a JSON answer, never an HTML page.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 404 ? "not_found" : res.status == 413 ? "payload_too_large" : res.status == 405 ? "method_not_allowed" : "bad_request";
    json_reply(res, res.status, {{"error", code}});
  });
  server_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    json_reply(res, 500, {{"error", "internal"}});
  });
}

HttpSurface::~HttpSurface() { stop(); }

int HttpSurface::start(const char* host_var, const char* port_var) {
  int port = endpoint_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(endpoint_.host);
  } else if (!server_->bind_to_port(endpoint_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    throw ConfigError("cannot listen on " + endpoint_.host + ":" + std::to_string(endpoint_.port) + " (check " + host_var + " and " +
                      port_var + ")");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  log_info("http_listening", {{"host", endpoint_.host}, {"port", port}});
  return port;
}

void HttpSurface::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

int probe_http(const HttpEndpoint& endpoint, const std::string& path) {
  httplib::Client cli(endpoint.host, endpoint.port);
  cli.set_connection_timeout(std::chrono::seconds(2));
  cli.set_read_timeout(std::chrono::seconds(5));
  const auto res = cli.Get(path);
  if (!res) {
    std::cerr << "probe: no answer from " << endpoint.host << ":" << endpoint.port << path << "\n";
    return 1;
  }
  std::cout << res->body;
  return res->status == 200 ? 0 : 1;
}

void arm_drain_deadline(std::chrono::seconds timeout) {
  std::thread([timeout] {
    std::this_thread::sleep_for(timeout);
    log_error("drain_timeout", {{"seconds", timeout.count()}, {"action", "abandoning in-flight work; it resumes at the next start"}});
    ::_exit(kExitDrainTimeout);
  }).detach();
}

std::chrono::seconds drain_timeout_from_env() {
  return std::chrono::seconds(env_int("NONAXIS_DRAIN_TIMEOUT_SECONDS", 20, 1, 3600));
}

}  // namespace nonaxis::bus
