#pragma once
// The prefilter's literal pass (rule.hpp): which of a scope's literals occur in a slice of
// documents. A Hyperscan literal database (caseless, one report per literal per scan).
// RE2::Set did the same job at several microseconds per call even on a 40-byte command
// (its DFA must track every literal at once); the set stays in the rule set for the rare
// text whose case folding Hyperscan does not share (exact_for).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hs_handles.hpp"

namespace nonaxis::ciso::detail {

class LiteralSet {
 public:
  // Literals are matched ASCII-case-insensitively; their index is their position here.
  // Throws std::runtime_error if Hyperscan cannot compile them.
  explicit LiteralSet(const std::vector<std::string>& literals);

  // Replaces `found` with the index of every literal occurring in `text`, each once, in no
  // particular order (FilteredRE2 sorts what it derives from them). Throws
  // std::runtime_error if the scan fails, so an analysis fails closed.
  void find(std::string_view text, std::vector<int>& found, HsScratch& scratch) const;

  // False when RE2's case-insensitive literal match could find more in `text` than find():
  // RE2 folds with Unicode rules, so KELVIN SIGN matches 'k' and LONG S matches 's', and
  // literals spelled with non-ASCII letters fold beyond ASCII.
  bool exact_for(std::string_view text) const;

 private:
  HsDatabase db_;              // null when every literal is empty
  std::uint64_t serial_ = 0;   // unique per set, never reused (unlike an address)
  std::vector<int> empty_;     // empty literals occur in every text
  bool ascii_ = true;
};

}  // namespace nonaxis::ciso::detail
