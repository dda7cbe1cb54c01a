#include "api_client.hpp"

#include <httplib.h>

#include <chrono>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/http_auth.hpp"

namespace nonaxis::op {

ApiReply call_state_api(const bus::HttpEndpoint& endpoint, const bus::Key& operator_key, const std::string& method,
                        const std::string& target, const std::string& body) {
  httplib::Client cli(endpoint.host, endpoint.port);
  cli.set_connection_timeout(std::chrono::seconds(3));
  cli.set_read_timeout(std::chrono::seconds(10));
  httplib::Headers headers;
  for (auto& [k, v] : bus::sign_http_request(bus::Role::kOperator, operator_key, method, target, body, std::chrono::system_clock::now())) {
    headers.emplace(k, v);
  }
  const auto res = method == "GET" ? cli.Get(target, headers) : cli.Post(target, headers, body, "application/json");
  ApiReply r;
  if (!res) {
    r.error = "no answer from the Arbiter at " + endpoint.host + ":" + std::to_string(endpoint.port) + " (" + httplib::to_string(res.error()) + ")";
    return r;
  }
  r.status = res->status;
  r.body = bus::Json::parse(res->body, nullptr, false);
  if (r.body.is_discarded()) r.body = nullptr;
  return r;
}

}  // namespace nonaxis::op
