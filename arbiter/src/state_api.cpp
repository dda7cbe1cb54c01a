#include "state_api.hpp"

#include <httplib.h>

#include <charconv>

#include "nonaxis/bus/boot.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/inbox.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/messages.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "nonaxis/bus/state_files.hpp"
#include "nonaxis/bus/state_messages.hpp"
#include "outcome.hpp"

namespace nonaxis::arbiter {

using nlohmann::json;

namespace {

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

void refuse(httplib::Response& res, int status, const std::string& code, const std::string& detail) {
  reply(res, status, {{"error", code}, {"detail", detail}});
}

std::optional<json> read_decision_file(const bus::Layout& layout, const std::string& name) {
  bus::UniqueFd dir = bus::open_dir(layout.decisions());
  const auto r = bus::read_queue_file(dir.get(), name, {bus::kMaxMessageBytes, bus::owner_of(dir.get())});
  if (!r.ok()) return std::nullopt;
  json j = json::parse(r.data, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

bool queued(const std::string& dir, const std::string& id) {
  bus::UniqueFd fd = bus::open_dir(dir);
  for (const bus::Kind k : {bus::Kind::kRequest, bus::Kind::kProposal, bus::Kind::kHandoff}) {
    if (bus::read_queue_file(fd.get(), bus::queue_name(id, k), {bus::kMaxMessageBytes, std::nullopt}).status !=
        bus::ReadResult::Status::kMissing) {
      return true;
    }
  }
  return false;
}

}  // namespace

StateApi::StateApi(const bus::Layout& layout, const Keys& keys, std::chrono::seconds max_skew)
    : layout_(layout),
      keys_(keys),
      auth_({{bus::Role::kOperator, &keys.operator_}, {bus::Role::kCiso, &keys.ciso}}, max_skew) {}

void StateApi::install(bus::HttpSurface& surface) {
  httplib::Server& srv = surface.server();
  srv.set_payload_max_length(kMaxApiBody);

  // Authenticates, then runs `body`. Only the Operator may change state; the CISO may read.
  const auto guarded = [this](bool writes, auto body) {
    return [this, writes, body](const httplib::Request& req, httplib::Response& res) {
      const auto a = auth_.verify(
          req.method, req.target, [&req](const char* h) { return req.get_header_value(h); }, req.body,
          std::chrono::system_clock::now());
      if (!a.ok) {
        bus::log_warn("api_refused", {{"reason", a.reason}, {"method", req.method}, {"path", req.path}});
        refuse(res, a.status, a.reason, "authentication failed (" + a.reason + ")");
        return;
      }
      if (writes && a.role != bus::Role::kOperator) {
        refuse(res, 403, "forbidden", "only the Operator may submit state changes");
        return;
      }
      body(req, res);
    };
  };

  srv.Get("/v1/boot", guarded(false, [this](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, bus::build_boot(layout_, std::chrono::system_clock::now()));
          }));

  const auto submit = [this](bus::Kind kind) {
    return [this, kind](const httplib::Request& req, httplib::Response& res) {
      const json env = json::parse(req.body, nullptr, false);
      if (!env.is_object()) return refuse(res, 400, "malformed", "the body must be a JSON object (a signed envelope)");
      const auto type = kind == bus::Kind::kHandoff ? bus::MessageType::kHandoff : bus::MessageType::kStateProposal;
      const auto check = bus::verify_envelope(env, keys_.operator_, type);
      if (!check.ok) return refuse(res, 422, check.reason, check.detail);
      const json& p = env["payload"];
      const auto err = kind == bus::Kind::kHandoff ? bus::check_handoff(p) : bus::check_state_proposal(p);
      if (err) return refuse(res, 422, "invalid_payload", *err);
      if (kind == bus::Kind::kHandoff && p["handoff_id"] != env["id"]) {
        return refuse(res, 422, "invalid_payload", "handoff_id must equal the envelope's id");
      }
      const std::string id = env["id"].get<std::string>();
      const bus::StateChange change = bus::state_change_of(env["type"].get<std::string>(), p);
      // The early answer to a stale base; the service loop re-checks it authoritatively.
      if (!change.patch.empty()) {
        std::optional<json> current;
        try {
          current = bus::StateFiles(layout_).current_pointer();
        } catch (const std::exception& e) {
          return refuse(res, 503, "state_unavailable", e.what());
        }
        if (!current) return refuse(res, 409, "no_state", "the Arbiter has no canonical state yet");
        if ((*current)["snapshot_id"] != change.base_snapshot_id) {
          return reply(res, 409, {{"error", "stale_base_snapshot"},
                                  {"detail", "the change was written against an earlier snapshot; rebase and propose again"},
                                  {"current_snapshot_id", (*current)["snapshot_id"]}});
        }
      }
      bus::UniqueFd dir = bus::open_dir(api_inbox_dir(layout_));
      const auto outcome = bus::write_new_file(dir.get(), bus::queue_name(id, kind), bus::canonical_dump(env) + "\n", 0600);
      bus::log_info("api_accepted", {{"id", id}, {"type", env["type"]}, {"duplicate", outcome != bus::WriteOutcome::kCreated}});
      reply(res, 202, {{"id", id}, {"status", outcome == bus::WriteOutcome::kCreated ? "accepted" : "already_received"},
                       {"poll", "/v1/requests/" + id}});
    };
  };
  srv.Post("/handoff", guarded(true, submit(bus::Kind::kHandoff)));
  srv.Post("/v1/handoff", guarded(true, submit(bus::Kind::kHandoff)));
  srv.Post("/v1/proposals", guarded(true, submit(bus::Kind::kProposal)));

  srv.Get(R"(/v1/requests/([0-9a-f-]{36}))", guarded(false, [this](const httplib::Request& req, httplib::Response& res) {
            const std::string id = req.matches[1];
            if (!bus::is_uuid(id)) return refuse(res, 400, "bad_id", "the id must be a lowercase UUID");
            if (auto d = read_decision_file(layout_, decision_file_name(id, true))) {
              return reply(res, 200, {{"id", id}, {"status", "decided"}, {"decision", *d}});
            }
            if (auto d = read_decision_file(layout_, decision_file_name(id, false))) {
              return reply(res, 200, {{"id", id}, {"status", "escalated"}, {"decision", *d}});
            }
            if (queued(layout_.pending_review(), id) || queued(api_inbox_dir(layout_), id)) {
              return reply(res, 200, {{"id", id}, {"status", "pending"}, {"decision", nullptr}});
            }
            refuse(res, 404, "unknown_request", "no request, proposal or handoff with this id");
          }));

  srv.Get("/v1/ledger", guarded(false, [this](const httplib::Request& req, httplib::Response& res) {
            std::size_t after = 0;
            if (req.has_param("after")) {
              const std::string a = req.get_param_value("after");
              const auto [end, ec] = std::from_chars(a.data(), a.data() + a.size(), after);
              if (a.empty() || ec != std::errc() || end != a.data() + a.size()) {
                return refuse(res, 400, "bad_parameter", "after must be a non-negative integer");
              }
            }
            const auto entries = bus::read_jsonl(layout_.ledger_file());
            json page = json::array();
            for (std::size_t i = after; i < entries.size() && page.size() < kLedgerPage; ++i) page.push_back(entries[i]);
            reply(res, 200, {{"entries", page}, {"after", after}, {"next_after", after + page.size()}, {"total", entries.size()}});
          }));
}

}  // namespace nonaxis::arbiter
