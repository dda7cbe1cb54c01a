#include "sandbox_harness.hpp"

#include "nonaxis/sandbox/content.hpp"

namespace nonaxis::sandbox::testing {

std::string ProbeRun::file_sha256(const std::string& path) { return seal_content(path).sha256_hex; }

}  // namespace nonaxis::sandbox::testing
