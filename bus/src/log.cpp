#include "nonaxis/bus/log.hpp"

#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>

#include "nonaxis/bus/clock.hpp"

namespace nonaxis::bus {
namespace {
std::mutex g_mu;
std::string g_component = "nonaxis";

void emit(std::string_view level, std::string_view event, const Json& fields) {
  Json line = fields.is_object() ? fields : Json::object();
  line["ts"] = rfc3339_micro(std::chrono::system_clock::now());
  line["level"] = level;
  line["event"] = event;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    line["component"] = g_component;
    text = line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    // One write() per line keeps lines whole when several threads log.
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
  }
}
}  // namespace

void set_log_component(std::string_view component) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_component = std::string(component);
}
void log_info(std::string_view event, const Json& fields) { emit("info", event, fields); }
void log_warn(std::string_view event, const Json& fields) { emit("warn", event, fields); }
void log_error(std::string_view event, const Json& fields) { emit("error", event, fields); }

}  // namespace nonaxis::bus
