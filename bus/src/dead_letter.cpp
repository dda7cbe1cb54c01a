#include "nonaxis/bus/dead_letter.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "nonaxis/bus/clock.hpp"
#include "nonaxis/bus/crypto.hpp"
#include "nonaxis/bus/metrics.hpp"
#include "nonaxis/bus/durable_file.hpp"
#include "nonaxis/bus/log.hpp"
#include "nonaxis/bus/queue_reader.hpp"

namespace nonaxis::bus {

DeadLetter::DeadLetter(const Layout& layout, Role consumer) : dir_(layout.dead_letter(consumer)), fd_(open_dir(dir_)) {}

std::string DeadLetter::record_name(const std::string& source_dir, const std::string& name) const {
  return "dl-" + sha256_hex(source_dir + "/" + name).substr(0, 40) + ".json";
}

bool DeadLetter::already_refused(const std::string& source_dir, const std::string& name) const {
  struct stat st {};
  return ::fstatat(fd_.get(), record_name(source_dir, name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void DeadLetter::refuse(const std::string& source_dir, const std::string& name, const std::string& reason,
                        const std::string& detail, const std::string& data) {
  Metrics::global().add("nonaxis_dead_letters_total", {{"reason", reason}});
  Json rec = {{"refused_at", rfc3339_micro(std::chrono::system_clock::now())},
              {"source_dir", source_dir},
              // The name is attacker-chosen: keep it only when it is printable ASCII.
              {"name", name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; }) ? name : std::string("<unprintable>")},
              {"reason", reason},
              {"detail", detail},
              {"size", data.size()},
              {"sha256", sha256_hex(data)}};
  const std::string rname = record_name(source_dir, name);
  write_new_file(fd_.get(), rname, rec.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n", 0640);
  if (!data.empty() && data.size() <= kMaxMessageBytes) {
    write_new_file(fd_.get(), rname.substr(0, rname.size() - 5) + ".bin", data, 0600);
  }
  log_warn("dead_letter", {{"reason", reason}, {"detail", detail}, {"source_dir", source_dir}, {"record", rname}});
}

}  // namespace nonaxis::bus
