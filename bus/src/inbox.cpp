#include "nonaxis/bus/inbox.hpp"

#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "nonaxis/bus/state_messages.hpp"

namespace nonaxis::bus {

std::optional<std::string> id_from_name(const std::string& name) {
  if (name.size() != 41 || name.compare(36, 5, ".json") != 0) return std::nullopt;
  std::string id = name.substr(0, 36);
  if (!is_uuid(id)) return std::nullopt;
  return id;
}

std::optional<QueueName> parse_queue_name(const std::string& name) {
  if (auto id = id_from_name(name)) return QueueName{*id, Kind::kRequest};
  for (const Kind k : {Kind::kProposal, Kind::kHandoff, Kind::kExecution}) {
    const std::string suffix = k == Kind::kProposal ? ".proposal.json" : k == Kind::kHandoff ? ".handoff.json" : ".execution.json";
    if (name.size() == 36 + suffix.size() && name.compare(36, suffix.size(), suffix) == 0 && is_uuid(name.substr(0, 36))) {
      return QueueName{name.substr(0, 36), k};
    }
  }
  return std::nullopt;
}

std::string queue_name(const std::string& id, Kind kind) {
  switch (kind) {
    case Kind::kProposal:
      return id + ".proposal.json";
    case Kind::kHandoff:
      return id + ".handoff.json";
    case Kind::kExecution:
      return id + ".execution.json";
    default:
      return id + ".json";
  }
}

namespace {

std::optional<MessageType> expected_type(Kind k) {
  switch (k) {
    case Kind::kAssessment:
      return MessageType::kAssessment;
    case Kind::kProposal:
      return MessageType::kStateProposal;
    case Kind::kHandoff:
      return MessageType::kHandoff;
    case Kind::kExecution:
      return MessageType::kExecutionRecord;
    default:
      return std::nullopt;  // review_request or audit_request, checked below
  }
}

std::optional<std::string> check_payload(Kind k, const nlohmann::json& env) {
  switch (k) {
    case Kind::kRequest:
      if (env["type"] != "review_request" && env["type"] != "audit_request") {
        return "a " + env["type"].get<std::string>() + " does not belong under a request's name";
      }
      return check_request(env);
    case Kind::kAssessment:
      return check_assessment(env);
    case Kind::kProposal:
      return check_state_proposal(env["payload"]);
    case Kind::kHandoff:
      if (auto e = check_handoff(env["payload"])) return e;
      if (env["payload"]["handoff_id"] != env["id"]) return std::string("handoff_id must equal the envelope's id");
      return std::nullopt;
    case Kind::kExecution:
      return check_execution_record(env["payload"]);
  }
  return std::nullopt;
}

}  // namespace

Inbox::Inbox(std::string dir, const KeyRing& ring, Kind kind, DeadLetter& dead)
    : dir_(std::move(dir)), fd_(open_dir(dir_)), ring_(ring), kind_(kind), dead_(dead) {}

std::optional<nlohmann::json> Inbox::read(const std::string& name, const std::string& expected_id) {
  if (dead_.already_refused(dir_, name)) return std::nullopt;
  const auto r = read_queue_file(fd_.get(), name, {kMaxMessageBytes, owner_of(fd_.get())});
  if (r.status == ReadResult::Status::kMissing) return std::nullopt;
  if (!r.ok()) {
    dead_.refuse(dir_, name, r.reason, r.detail);
    return std::nullopt;
  }
  const nlohmann::json env = nlohmann::json::parse(r.data, nullptr, false);
  if (env.is_discarded()) {
    dead_.refuse(dir_, name, "malformed", "not valid JSON", r.data);
    return std::nullopt;
  }
  const auto check = verify_envelope(env, ring_, expected_type(kind_));
  if (!check.ok) {
    dead_.refuse(dir_, name, check.reason, check.detail, r.data);
    return std::nullopt;
  }
  const std::optional<std::string> err = check_payload(kind_, env);
  if (err) {
    dead_.refuse(dir_, name, "invalid_payload", *err, r.data);
    return std::nullopt;
  }
  // An execution record is filed under the request it executed; the Arbiter binds
  // the two through the token, so its name promises nothing about its own id.
  const std::string bound_id = kind_ == Kind::kAssessment  ? env["payload"]["review_request_id"].get<std::string>()
                               : kind_ == Kind::kExecution ? expected_id
                                                           : env["id"].get<std::string>();
  if (bound_id != expected_id) {
    dead_.refuse(dir_, name, "name_mismatch", "file name does not match the message it holds", r.data);
    return std::nullopt;
  }
  return env;
}

}  // namespace nonaxis::bus
