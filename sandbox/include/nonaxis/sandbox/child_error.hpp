#pragma once
// How the child reports, between clone and exec, which step failed. Fixed-size POD
// messages on a CLOEXEC pipe: EOF after the layer report means exec succeeded.
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace nonaxis::sandbox {

inline constexpr std::uint32_t kMsgLayers = 0x4c415952;  // "LAYR"
inline constexpr std::uint32_t kMsgError = 0x4552524f;   // "ERRO"
inline constexpr std::uint32_t kMsgListener = 0x4c53544e;  // "LSTN": carries the seccomp listener
inline constexpr std::uint32_t kMsgViewReady = 0x56494557;  // "VIEW": the filesystem view is built

// Bits of ChildMessage::layers: what the child actually applied before exec.
enum LayerBit : std::uint32_t {
  kLayerUserNs = 1U << 0,
  kLayerFsView = 1U << 1,
  kLayerNoNewPrivs = 1U << 2,
  kLayerCapsDropped = 1U << 3,
  kLayerSetsid = 1U << 4,
  kLayerFdsClosed = 1U << 5,
  kLayerEnvCleared = 1U << 6,
  kLayerSeccomp = 1U << 7,
  kLayerLandlock = 1U << 8,
  kLayerAppArmor = 1U << 9,
  kLayerRlimits = 1U << 10,
  kLayerLoopbackUp = 1U << 11,
};

struct ChildMessage {
  std::uint32_t kind = 0;
  std::uint32_t layers = 0;
  std::int32_t err = 0;            // errno for kMsgError
  std::int32_t landlock_abi = 0;   // ABI actually enforced, 0 if none
  std::uint32_t fs_view_us = 0;    // time the child spent building its filesystem view
  std::uint32_t confine_us = 0;    // from the network release to just before exec
  char step[56] = {};              // which step failed
};

// Async-signal-safe: fills a ChildMessage error from a step name and errno.
inline ChildMessage child_error(const char* step, int err) {
  ChildMessage m;
  m.kind = kMsgError;
  m.err = err;
  std::size_t i = 0;
  for (; step[i] != '\0' && i + 1 < sizeof m.step; ++i) m.step[i] = step[i];
  m.step[i] = '\0';
  return m;
}

}  // namespace nonaxis::sandbox
