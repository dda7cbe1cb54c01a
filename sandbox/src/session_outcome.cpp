#include "nonaxis/sandbox/session_outcome.hpp"

#include <unistd.h>

namespace nonaxis::sandbox {
namespace {

using Json = bus::Json;

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string dump_lossy(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

SessionOutcome refused_outcome(Refusal r, std::string detail) {
  SessionOutcome o;
  o.refusal = r;
  o.detail = std::move(detail);
  o.exit_code = code(r);
  return o;
}

int print_outcome(const SessionOutcome& o, bool json) {
  write_all(STDERR_FILENO, o.events);  // a resident supervisor's events for this request
  if (json) {
    Json doc = {{"exit_code", o.exit_code}};
    if (o.refusal) doc["refusal"] = {{"reason", std::string(reason(*o.refusal))}, {"detail", o.detail}};
    doc["record"] = o.record;
    doc["stdout"] = o.stdout_data;
    doc["stderr"] = o.stderr_data;
    write_all(STDOUT_FILENO, dump_lossy(doc) + "\n");
  } else {
    write_all(STDOUT_FILENO, o.stdout_data);
    write_all(STDERR_FILENO, o.stderr_data);
    if (o.refusal) {
      write_all(STDERR_FILENO, "nonaxis-sandbox: refused (" + std::string(reason(*o.refusal)) + "): " + o.detail + "\n");
    }
    if (!o.record.is_null()) write_all(STDERR_FILENO, dump_lossy(Json{{"execution_record", o.record}}) + "\n");
  }
  return o.exit_code;
}

}  // namespace nonaxis::sandbox
