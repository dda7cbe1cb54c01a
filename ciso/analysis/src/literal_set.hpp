#pragma once
// The prefilter's literal pass (rule.hpp): which of a scope's literals occur in a slice of
// documents. An Aho-Corasick automaton compiled to a full transition table over byte
// classes, so the pass is one table lookup per byte. RE2::Set did the same job at several
// microseconds per call even on a 40-byte command (its DFA must track every literal at
// once); the set stays in the rule set for the rare text this matcher cannot judge.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nonaxis::ciso::detail {

class LiteralSet {
 public:
  // Literals are matched ASCII-case-insensitively; their index is their position here.
  explicit LiteralSet(const std::vector<std::string>& literals);

  // Memory for find(), reused across calls (and sets) so that a call clears nothing: a slot
  // holds the number of the call that last reported its state or literal. A short command
  // is a few dozen bytes; clearing thousands of state flags per call would outweigh it.
  struct Scratch {
    std::vector<std::uint32_t> state_seen;
    std::vector<std::uint32_t> literal_seen;
    std::uint32_t call = 0;
  };

  // Replaces `found` with the index of every literal occurring in `text`, each once, in no
  // particular order (FilteredRE2 sorts what it derives from them).
  void find(std::string_view text, std::vector<int>& found, Scratch& scratch) const;

  // False when RE2's case-insensitive literal match could find more in `text` than find():
  // RE2 folds with Unicode rules, so KELVIN SIGN matches 'k' and LONG S matches 's', and
  // literals spelled with non-ASCII letters fold beyond ASCII.
  bool exact_for(std::string_view text) const;

 private:
  std::array<std::uint8_t, 256> class_of_{};  // byte -> column; 0 for bytes in no literal
  std::size_t classes_ = 1;
  // Row-major transitions; entries are row offsets (state * classes_), saving a multiply per byte.
  std::vector<std::uint32_t> next_;
  std::vector<std::uint32_t> out_begin_;    // per state (+1): range in outputs_
  std::vector<int> outputs_;                // literals ending at each state, suffix matches included
  std::size_t size_ = 0;
  bool ascii_ = true;
};

}  // namespace nonaxis::ciso::detail
