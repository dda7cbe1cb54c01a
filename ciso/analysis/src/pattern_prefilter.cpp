#include "pattern_prefilter.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "nonaxis/bus/crypto.hpp"

namespace nonaxis::ciso::detail {
namespace {

// PREFILTER: a superset; SINGLEMATCH: one report per pattern per scan; ALLOWEMPTY: a
// widened pattern may match the empty string, which must still be reported.
constexpr unsigned kFlags = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;

}  // namespace

PatternPrefilter PatternPrefilter::compile(const std::vector<std::string>& patterns) {
  PatternPrefilter p;
  std::vector<unsigned> ids;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    if (ascii_only(patterns[i])) {
      ids.push_back(static_cast<unsigned>(i));
    } else {
      p.always_.push_back(static_cast<int>(i));
    }
  }
  // Tuned for the CPU of the build (its AVX2/AVX-512 literal matchers cut the 16 KB script
  // latency by about a fifth against a generic x86-64 database). On a CPU without those
  // features the database fails load()'s test scan and the literal pass is used instead.
  hs_platform_info_t host{};
  if (hs_populate_platform(&host) != HS_SUCCESS) throw std::runtime_error("pattern prefilter: no platform info");
  // hs_compile_multi names the first pattern it refuses; that one is set aside and the rest
  // compiled again, so one unsupported construct costs one rule its filtering, not all.
  while (!ids.empty()) {
    std::vector<const char*> exprs;
    for (const unsigned id : ids) exprs.push_back(patterns[id].c_str());
    const std::vector<unsigned> flags(ids.size(), kFlags);
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(ids.size()), HS_MODE_BLOCK,
                         &host, &db, &err) == HS_SUCCESS) {
      p.db_.reset(db);
      break;
    }
    const int bad = err != nullptr ? err->expression : -1;
    const std::string what = err != nullptr && err->message != nullptr ? err->message : "unknown error";
    hs_free_compile_error(err);
    if (bad < 0 || static_cast<std::size_t>(bad) >= ids.size()) {
      // Not one pattern's fault: a build that cannot compile them must not ship a
      // database that quietly filters nothing.
      throw std::runtime_error("pattern prefilter: " + what);
    }
    p.always_.push_back(static_cast<int>(ids[static_cast<std::size_t>(bad)]));
    ids.erase(ids.begin() + bad);
  }
  std::sort(p.always_.begin(), p.always_.end());
  return p;
}

std::string PatternPrefilter::key(const std::vector<std::string>& patterns) {
  std::string all = std::string("hyperscan ") + hs_version() + "\nflags " + std::to_string(kFlags) + "\n";
  for (const std::string& pattern : patterns) {
    all += pattern;
    all.push_back('\0');
  }
  return bus::sha256_hex(all);
}

std::string PatternPrefilter::serialize() const {
  if (!db_) return {};
  char* bytes = nullptr;
  std::size_t size = 0;
  if (hs_serialize_database(db_.get(), &bytes, &size) != HS_SUCCESS) {
    throw std::runtime_error("pattern prefilter: cannot serialize");
  }
  std::string out(bytes, size);
  std::free(bytes);  // allocated by Hyperscan's default allocator (malloc)
  return out;
}

std::unique_ptr<PatternPrefilter> PatternPrefilter::load(std::string_view serialized, std::vector<int> always) {
  std::unique_ptr<PatternPrefilter> p(new PatternPrefilter());
  p->always_ = std::move(always);
  if (!std::is_sorted(p->always_.begin(), p->always_.end())) return nullptr;
  if (serialized.empty()) return p;
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(serialized.data(), serialized.size(), &db) != HS_SUCCESS) return nullptr;
  p->db_.reset(db);
  // A database for another platform or version deserializes but cannot be scanned; find
  // out now rather than fail every analysis later.
  try {
    HsScratch scratch;
    std::vector<int> found;
    p->find("", found, scratch);
  } catch (const std::runtime_error&) {
    return nullptr;
  }
  return p;
}

bool PatternPrefilter::usable_for(std::string_view text) { return ascii_only(text); }

void PatternPrefilter::find(std::string_view text, std::vector<int>& found, HsScratch& scratch) const {
  found = always_;
  if (!db_) return;
  scratch.scan(db_.get(), serial_, text, found, "pattern prefilter");
  std::sort(found.begin(), found.end());
}

}  // namespace nonaxis::ciso::detail
