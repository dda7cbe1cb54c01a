#include "nonaxis/bus/state_files.hpp"

#include <stdexcept>

#include "nonaxis/bus/append_log.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/bus/queue_reader.hpp"
#include "nonaxis/bus/state.hpp"

namespace nonaxis::bus {

std::optional<Json> StateFiles::read(const std::string& dir, const std::string& name) const {
  UniqueFd fd;
  try {
    fd = open_dir(dir);
  } catch (const IoError& e) {
    if (e.code() == ENOENT) return std::nullopt;
    throw;
  }
  const auto r = read_queue_file(fd.get(), name, {kMaxStateBytes + 4096, owner_of(fd.get())});
  if (r.status == ReadResult::Status::kMissing) return std::nullopt;
  if (!r.ok()) throw std::runtime_error(dir + "/" + name + ": " + r.detail);
  Json j = Json::parse(r.data, nullptr, false);
  if (!j.is_object()) throw std::runtime_error(dir + "/" + name + ": not a JSON object");
  return j;
}

std::optional<Json> StateFiles::current_pointer() const { return read(layout_.state(), kCurrentSnapshotFile); }

std::optional<Json> StateFiles::snapshot(const std::string& id) const {
  if (!is_uuid(id)) return std::nullopt;
  return read(layout_.snapshots(), id + ".json");
}

std::optional<Json> StateFiles::handoff(const std::string& id) const {
  if (!is_uuid(id)) return std::nullopt;
  return read(layout_.handoffs(), id + ".json");
}

std::optional<Json> StateFiles::last_handoff() const {
  const auto p = read(layout_.state(), kLastHandoffFile);
  if (!p) return std::nullopt;
  if (!p->contains("handoff_id") || !(*p)["handoff_id"].is_string()) throw std::runtime_error("last_handoff.json is malformed");
  auto h = handoff((*p)["handoff_id"].get<std::string>());
  if (!h) throw std::runtime_error("last_handoff.json names a handoff that does not exist");
  return h;
}

std::optional<Json> StateFiles::current_snapshot() const {
  const auto p = current_pointer();
  if (!p) return std::nullopt;
  if (!p->contains("snapshot_id") || !(*p)["snapshot_id"].is_string() || !p->contains("state_hash")) {
    throw std::runtime_error("current.json is malformed");
  }
  auto s = snapshot((*p)["snapshot_id"].get<std::string>());
  if (!s) throw std::runtime_error("current.json names snapshot " + (*p)["snapshot_id"].get<std::string>() + ", which does not exist");
  if (auto e = check_snapshot(*s)) throw std::runtime_error("current snapshot is invalid: " + *e);
  if ((*s)["snapshot_id"] != (*p)["snapshot_id"] || (*s)["state_hash"] != (*p)["state_hash"]) {
    throw std::runtime_error("current snapshot does not match current.json");
  }
  return s;
}

std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> out;
  std::string text;
  try {
    text = read_whole_file(path, std::size_t{1} << 30);
  } catch (const IoError& e) {
    if (e.code() == ENOENT) return out;
    throw;
  }
  for (const auto& line : split_lines(text)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace nonaxis::bus
