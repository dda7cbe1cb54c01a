#include "nonaxis/bus/cli.hpp"

#include <iostream>
#include <stdexcept>

#include "nonaxis/bus/keys.hpp"
#include "nonaxis/bus/log.hpp"

namespace nonaxis::bus {

int run_guarded(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << program << ": configuration error: " << e.what() << "\n";
    log_error("config_error", {{"detail", e.what()}});
    return kExitConfig;
  } catch (const std::invalid_argument& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    log_error("fatal", {{"detail", e.what()}});
    return kExitInternal;
  }
}

}  // namespace nonaxis::bus
