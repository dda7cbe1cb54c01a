#include "nonaxis/bus/inbox.hpp"

#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::bus {

std::optional<std::string> id_from_name(const std::string& name) {
  if (name.size() != 41 || name.compare(36, 5, ".json") != 0) return std::nullopt;
  std::string id = name.substr(0, 36);
  if (!is_uuid(id)) return std::nullopt;
  return id;
}

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
  const auto type = kind_ == Kind::kAssessment ? std::optional(MessageType::kAssessment) : std::nullopt;
  const auto check = verify_envelope(env, ring_, type);
  if (!check.ok) {
    dead_.refuse(dir_, name, check.reason, check.detail, r.data);
    return std::nullopt;
  }
  std::optional<std::string> err;
  if (kind_ == Kind::kRequest) {
    if (env["type"] != "review_request" && env["type"] != "audit_request") {
      err = "a " + env["type"].get<std::string>() + " is not handled from this directory yet";
    } else {
      err = check_request(env);
    }
  } else {
    err = check_assessment(env);
  }
  if (err) {
    dead_.refuse(dir_, name, "invalid_payload", *err, r.data);
    return std::nullopt;
  }
  const std::string bound_id = kind_ == Kind::kRequest ? env["id"].get<std::string>()
                                                       : env["payload"]["review_request_id"].get<std::string>();
  if (bound_id != expected_id) {
    dead_.refuse(dir_, name, "name_mismatch", "file name does not match the message it holds", r.data);
    return std::nullopt;
  }
  return env;
}

}  // namespace nonaxis::bus
