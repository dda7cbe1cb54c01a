#include "nonaxis/sandbox/execution_record.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <system_error>
#include <vector>

#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/envelope.hpp"
#include "nonaxis/bus/fd.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/unique_fd.hpp"

namespace nonaxis::sandbox {
namespace {

// A record is a few KiB, so the last complete line is almost always within the first
// window; the window grows (doubling) only for a longer line or a torn tail, up to 1 MiB.
constexpr std::size_t kFirstTailWindow = std::size_t{64} << 10;
constexpr std::size_t kMaxTailWindow = std::size_t{1} << 20;

[[noreturn]] void fail(const std::string& what, int err) { throw std::system_error(err, std::generic_category(), what); }

// The hash of the last complete line of the log (the chain head), cutting off a torn
// tail first. Called with the log locked.
std::string chain_head(int fd, const std::filesystem::path& record_dir) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("stat record log", errno);
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size == 0) {
    // Continue a chain begun by an earlier sandbox version, whose head sat in .lock.
    UniqueFd old(::open((record_dir / ".lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    char head[64];
    if (old.valid() && ::pread(old.get(), head, sizeof head, 0) == static_cast<ssize_t>(sizeof head) &&
        bus::is_sha256_hex(std::string_view(head, sizeof head))) {
      return std::string(head, sizeof head);
    }
    return std::string(bus::kGenesisHash);
  }
  std::size_t window = std::min(size, kFirstTailWindow);
  std::string buf;
  std::size_t end = std::string::npos, start = std::string::npos;
  for (;;) {
    buf.assign(window, '\0');
    if (::pread(fd, buf.data(), window, static_cast<off_t>(size - window)) != static_cast<ssize_t>(window)) {
      fail("read record log tail", errno);
    }
    end = buf.rfind('\n');
    start = end == std::string::npos || end == 0 ? std::string::npos : buf.rfind('\n', end - 1);
    // Enough when the window holds the whole last complete line, or the whole file.
    if ((end != std::string::npos && start != std::string::npos) || window == size) break;
    if (window >= kMaxTailWindow) fail("record log: last line longer than 1 MiB", EIO);
    window = std::min({size, window * 2, kMaxTailWindow});
  }
  if (end + 1 != window) {
    // A line without its newline was being written when the machine stopped; it was
    // never acknowledged, so it is not part of the chain.
    const std::size_t keep = end == std::string::npos ? 0 : end + 1;
    if (::ftruncate(fd, static_cast<off_t>(size - window + keep)) != 0) fail("cut torn record", errno);
    if (keep == 0) return chain_head(fd, record_dir);
    buf.resize(keep);
  }
  end = buf.size() - 1;
  const std::size_t from = start == std::string::npos ? 0 : start + 1;
  try {
    return bus::envelope_hash(bus::Json::parse(buf.substr(from, end - from)));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("record log: last record unreadable: ") + e.what());
  }
}

}  // namespace

bus::Json sign_and_store_record(const bus::Json& payload, const bus::Key& key, const std::filesystem::path& record_dir) {
  ensure_directory(record_dir, 0700);
  const std::string id = payload.at("execution_id").get<std::string>();
  if (!bus::is_uuid(id)) throw std::invalid_argument("execution_id is not a UUID");
  UniqueFd log(::open((record_dir / kRecordLogName).c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                      0600));
  if (!log.valid()) fail("open record log", errno);
  while (::flock(log.get(), LOCK_EX) != 0) {
    if (errno != EINTR) fail("lock record log", errno);
  }
  struct stat st {};
  const bool fresh_log = ::fstat(log.get(), &st) == 0 && st.st_size == 0;
  // The records form a hash chain, so a deleted or reordered record shows.
  bus::Json env = bus::make_envelope(bus::MessageType::kExecutionRecord, payload, chain_head(log.get(), record_dir),
                                     key);
  const std::string line = bus::canonical_dump(env) + "\n";
  bus::write_all(log.get(), line.data(), line.size(), "record log");
  // One fdatasync makes the record and the new chain head durable together.
  if (::fdatasync(log.get()) != 0) fail("fdatasync record log", errno);
  // A new log's directory entry needs the directory synced once.
  if (fresh_log) fsync_directory(record_dir);
  try {
    bus::UniqueFd dir = bus::open_dir(record_dir.string());
    bus::publish_new_file(dir.get(), id + ".json", line, 0600);
  } catch (const std::exception&) {
    // The log holds the record; the per-execution copy is restored by maintenance.
  }
  return env;
}

std::size_t republish_missing_records(const std::filesystem::path& record_dir) {
  std::ifstream in(record_dir / kRecordLogName, std::ios::binary);
  if (!in) return 0;
  bus::UniqueFd dir = bus::open_dir(record_dir.string());
  std::size_t restored = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line without its newline is not a record (yet)
    try {
      const auto env = bus::Json::parse(line);
      const std::string id = env.at("payload").at("execution_id").get<std::string>();
      if (!bus::is_uuid(id)) continue;
      struct stat st {};
      if (::fstatat(dir.get(), (id + ".json").c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
      if (bus::publish_new_file(dir.get(), id + ".json", line + "\n", 0600) == bus::WriteOutcome::kCreated) ++restored;
    } catch (const std::exception&) {
      // An unreadable line is reported by whoever verifies the chain, not here.
    }
  }
  return restored;
}

}  // namespace nonaxis::sandbox
