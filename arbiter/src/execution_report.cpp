#include "execution_report.hpp"

#include <chrono>

#include "nonaxis/bus/clock.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

std::optional<std::string> execution_mismatch(const json& record, const json& token) {
  const json& p = record["payload"];
  if (!token.is_object() || !token.contains("scope") || !token["scope"].is_object()) return std::string("the request has no token");
  if (token.value("token_id", std::string()) != p["token_id"].get<std::string>()) {
    return std::string("the record names another token than the one issued for this request");
  }
  if (token["scope"].value("content_hash", std::string()) != p["content_hash"].get<std::string>()) {
    return std::string("the record's content hash differs from the approved content");
  }
  return std::nullopt;
}

Outcome execution_outcome(const std::string& request_id, const json& record) {
  const json& p = record["payload"];
  const json& ex = p["exit"];
  const std::string result = ex["timed_out"].get<bool>() ? "timed out" : "exit " + std::to_string(ex["code"].get<long long>());
  Outcome o;
  o.request_id = request_id;
  o.decision = nullptr;
  o.message_type = "execution_record";
  o.rule_id = "execution_reported";
  o.submitted_at = record["timestamp"].get<std::string>();
  o.ledger_entry = {{"decision_id", record["id"]},
                    {"timestamp", bus::rfc3339_micro(std::chrono::system_clock::now())},
                    {"statement", "Recorded the sandboxed execution of request " + request_id + ": " + result},
                    {"rationale", json::array({"Execution record signed by the sandbox, token " + p["token_id"].get<std::string>(),
                                               "Content " + p["content_hash"].get<std::string>()})},
                    {"constraints_referenced", json::array()},
                    {"artifacts", json::array()},
                    {"tags", json::array({"executed:" + request_id, "token:" + p["token_id"].get<std::string>()})},
                    {"supersedes", nullptr}};
  json payload = {{"content_hash", p["content_hash"]}, {"result", result}};
  if (p.contains("action_type") && p["action_type"].is_string()) payload["action_type"] = p["action_type"];
  if (p.contains("violations") && p["violations"].is_array() && !p["violations"].empty()) {
    payload["error"] = std::to_string(p["violations"].size()) + " confinement violation(s) recorded by the sandbox";
  }
  o.events.push_back({"EXECUTED", "arbiter", {{"token_id", p["token_id"]}}, payload});
  return o;
}

}  // namespace nonaxis::arbiter
