#include "nonaxis/sandbox/nonce_store.hpp"

#include <sys/stat.h>

#include <stdexcept>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/ids.hpp"
#include "nonaxis/sandbox/durable_write.hpp"
#include "nonaxis/sandbox/untrusted_file.hpp"

namespace nonaxis::sandbox {

NonceStore::NonceStore(std::filesystem::path dir) : dir_(std::move(dir)) { ensure_directory(dir_, 0700); }

std::filesystem::path NonceStore::path_for(const std::string& nonce) const {
  // Only a well-formed UUID ever becomes a file name; the token verifier checked it,
  // and this re-check keeps the store safe on its own.
  if (!bus::is_uuid(nonce)) throw std::invalid_argument("nonce is not a UUID");
  return dir_ / (nonce + ".spent");
}

SpendResult NonceStore::spend(const std::string& nonce, const std::string& token_id, const std::string& expires_at,
                              bus::SysTime now) {
  const bus::Json mark = {{"nonce", nonce},
                          {"token_id", token_id},
                          {"expires_at", expires_at},
                          {"spent_at", bus::rfc3339_micro(now)}};
  return create_file_exclusive_durably(path_for(nonce), bus::canonical_dump(mark) + "\n") ? SpendResult::kSpent
                                                                                          : SpendResult::kReplayed;
}

bool NonceStore::is_spent(const std::string& nonce) const {
  struct stat st {};
  return ::lstat(path_for(nonce).c_str(), &st) == 0;
}

std::size_t NonceStore::prune(bus::SysTime now, std::chrono::seconds grace) {
  std::size_t removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() != ".spent") continue;
    try {
      const auto mark = bus::Json::parse(read_untrusted_file(entry.path(), 4096));
      const auto expires = bus::parse_rfc3339(mark.at("expires_at").get<std::string>());
      if (expires && *expires + grace < now) {
        std::filesystem::remove(entry.path());
        ++removed;
      }
    } catch (const std::exception&) {
      // An unreadable mark is kept: forgetting a nonce is the unsafe direction.
    }
  }
  if (removed > 0) fsync_directory(dir_);
  return removed;
}

}  // namespace nonaxis::sandbox
