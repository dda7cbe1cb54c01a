#pragma once
// Signed calls to the Arbiter's State API (bus/http_auth.hpp), over cpp-httplib.
#include <optional>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/http_surface.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::op {

struct ApiReply {
  int status = 0;  // 0: no answer (unreachable, timeout)
  bus::Json body;  // parsed JSON, or null
  std::string error;
};

ApiReply call_state_api(const bus::HttpEndpoint& endpoint, const bus::Key& operator_key, const std::string& method,
                        const std::string& target, const std::string& body = {});

}  // namespace nonaxis::op
