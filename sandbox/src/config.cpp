#include "nonaxis/sandbox/config.hpp"

#include <cstdlib>
#include <cstring>

namespace nonaxis::sandbox {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

SandboxConfig config_from_env() {
  SandboxConfig c;
  // Installed profiles first; a development build falls back to the source tree.
  c.profiles_dir = std::filesystem::exists("/usr/share/nonaxis/profiles") ? "/usr/share/nonaxis/profiles"
                                                                           : NONAXIS_SANDBOX_SOURCE_PROFILES;
  if (const char* v = env("NONAXIS_SANDBOX_STATE_DIR")) c.state_dir = v;
  if (const char* v = env("NONAXIS_SANDBOX_PROFILES")) c.profiles_dir = v;
  if (const char* v = env("NONAXIS_SANDBOX_DEGRADE_MAC")) c.allow_degraded_mac = std::strcmp(v, "1") == 0;
  if (const char* v = env("NONAXIS_SANDBOX_FORCE_LANDLOCK")) c.force_landlock = std::strcmp(v, "1") == 0;
  if (const char* v = env("NONAXIS_SANDBOX_UPLINK_NETNS")) c.uplink_netns = v;
  if (const char* v = env("NONAXIS_SANDBOX_HOSTS_FILE")) c.hosts_file = v;
  // A dedicated outside uid/gid for sandboxed content (default nobody). Production
  // should use one no host daemon shares.
  if (const char* v = env("NONAXIS_SANDBOX_UID")) c.sandbox_uid = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
  if (const char* v = env("NONAXIS_SANDBOX_GID")) c.sandbox_gid = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
  if (const char* v = env("NONAXIS_SANDBOX_NETNS_POOL")) c.netns_pool_size = std::strtoul(v, nullptr, 10);
  return c;
}

}  // namespace nonaxis::sandbox
