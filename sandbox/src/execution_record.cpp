#include "nonaxis/sandbox/execution_record.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <system_error>

#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"
#include <system_error>

namespace nonaxis::sandbox {

bus::Json sign_and_store_record(const bus::Json& payload, const bus::Key& key, const std::filesystem::path& record_dir) {
  ensure_directory(record_dir, 0700);
  const std::string id = payload.at("execution_id").get<std::string>();
  if (!bus::is_uuid(id)) throw std::invalid_argument("execution_id is not a UUID");
  UniqueFd lock(::open((record_dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
    throw std::system_error(errno, std::generic_category(), "lock record chain");
  }
  // The sandbox's records form a hash chain, so a deleted or reordered record shows.
  // The chain head (64 hex digits) lives in the lock file itself: rewritten in place
  // with one fdatasync, it needs no rename and no directory sync.
  std::string prev(bus::kGenesisHash);
  char head[64];
  if (::pread(lock.get(), head, sizeof head, 0) == static_cast<ssize_t>(sizeof head) &&
      bus::is_sha256_hex(std::string_view(head, sizeof head))) {
    prev.assign(head, sizeof head);
  }
  bus::Json env = bus::make_envelope(bus::MessageType::kExecutionRecord, payload, prev, key);
  write_file_durably(record_dir / (id + ".json"), bus::canonical_dump(env) + "\n");
  const std::string next = bus::envelope_hash(env);
  if (::pwrite(lock.get(), next.data(), next.size(), 0) != static_cast<ssize_t>(next.size()) ||
      ::fdatasync(lock.get()) != 0) {
    throw std::system_error(errno, std::generic_category(), "update record chain head");
  }
  return env;
}

}  // namespace nonaxis::sandbox
