#include "nonaxis/bus/append_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nonaxis/bus/log.hpp"

namespace nonaxis::bus {

std::vector<std::string> split_lines(const std::string& text, std::string* tail) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      if (tail != nullptr) *tail = text.substr(start);
      break;
    }
    lines.emplace_back(text, start, nl - start);
    start = nl + 1;
  }
  return lines;
}

std::string read_whole_file(const std::string& path, std::size_t max_bytes) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (raw < 0) throw IoError("open " + path, errno);
  UniqueFd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw IoError("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) throw IoError(path + " is not a regular file", EINVAL);
  if (static_cast<std::size_t>(st.st_size) > max_bytes) throw IoError(path + " exceeds its size limit", EFBIG);
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("read " + path, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

AppendLog::AppendLog(const std::string& path, std::vector<std::string>* lines_out, mode_t mode) : path_(path) {
  const int raw = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, mode);
  if (raw < 0) throw IoError("open " + path, errno);
  fd_.reset(raw);
  const std::string text = read_whole_file(path, std::size_t{1} << 34);
  std::string tail;
  std::vector<std::string> lines = split_lines(text, &tail);
  if (!tail.empty()) {
    // Only an unacknowledged append can lack its newline: cut it off durably.
    torn_ = tail.size();
    if (::ftruncate(fd_.get(), static_cast<off_t>(text.size() - tail.size())) != 0) throw IoError("truncate " + path, errno);
    sync();
    log_warn("torn_tail_removed", {{"file", path}, {"bytes", torn_}});
  }
  if (lines_out != nullptr) *lines_out = std::move(lines);
}

void AppendLog::append(const std::vector<std::string>& lines) {
  std::string buf;
  for (const auto& l : lines) {
    buf += l;
    buf += '\n';
  }
  write_all(fd_.get(), buf.data(), buf.size(), path_);
}

void AppendLog::sync() {
  if (::fdatasync(fd_.get()) != 0) throw IoError("fdatasync " + path_, errno);
}

}  // namespace nonaxis::bus

namespace nonaxis::bus {
void AppendLog::truncate() {
  if (::ftruncate(fd_.get(), 0) != 0) throw IoError("truncate " + path_, errno);
  if (::fsync(fd_.get()) != 0) throw IoError("fsync " + path_, errno);
}
}  // namespace nonaxis::bus
