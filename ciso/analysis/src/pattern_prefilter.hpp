#pragma once
// The rule prefilter for ASCII text (rule.hpp): one Hyperscan pass over a slice of
// documents reports every rule whose pattern could match in it. The patterns are compiled
// in Hyperscan's prefilter mode, which matches a superset of what each pattern matches, so
// no rule that matches is ever left out; RE2 then confirms each candidate exactly. The
// literal pass it replaces lets through every rule whose literals occur somewhere in the
// slice, and a 16 KB script holds nearly every short literal, so most rules were searched
// over the whole script only to find nothing.
//
// Compiling the databases takes seconds, so it happens at build time for the embedded rules
// (prefilter_gen.cpp) and the rule loader deserializes the result; rules loaded from other
// files, or a database this host's Hyperscan refuses, use the literal pass instead, which
// finds the same matches more slowly.
//
// Only for ASCII text: Hyperscan works on bytes here, RE2 on UTF-8 code points (`.` or
// `[^x]` cover a whole multi-byte character) and with Unicode case folding, so on other text
// the superset is not guaranteed and the literal pass is used instead.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hs_handles.hpp"

namespace nonaxis::ciso::detail {

class PatternPrefilter {
 public:
  // Build time. `patterns` in RE2 syntax; a pattern's index is its position here. A pattern
  // Hyperscan cannot compile even in prefilter mode, or one spelled with non-ASCII bytes
  // (RE2 may fold those onto ASCII letters), is a candidate for every text. The database is
  // tuned for this machine's CPU.
  static PatternPrefilter compile(const std::vector<std::string>& patterns);

  // Identifies a pattern list together with the Hyperscan version and the flags, so an
  // embedded database is used only for exactly the patterns it was compiled from.
  static std::string key(const std::vector<std::string>& patterns);

  // The serialized database ("" when no pattern compiled) and the always-candidates.
  std::string serialize() const;
  const std::vector<int>& always() const { return always_; }

  // Run time: a serialized database; null when this host's Hyperscan cannot load or scan it
  // (another Hyperscan version, or a CPU without the features it was compiled for).
  static std::unique_ptr<PatternPrefilter> load(std::string_view serialized, std::vector<int> always);

  // True when find() is a superset for `text` in the sense above (every byte is ASCII).
  static bool usable_for(std::string_view text);

  // Replaces `found` with the candidates for `text`, ascending, each once. Throws
  // std::runtime_error if the scan fails, so an analysis fails closed.
  void find(std::string_view text, std::vector<int>& found, HsScratch& scratch) const;

 private:
  PatternPrefilter() : serial_(HsScratch::next_serial()) {}

  HsDatabase db_;             // null when no pattern compiled
  std::uint64_t serial_ = 0;
  std::vector<int> always_;   // patterns without a database entry: candidates everywhere, ascending
};

}  // namespace nonaxis::ciso::detail
