#pragma once
// Every document of one request, matched together. The scanner appends each rendering it
// makes (simple commands, pipelines, argv[0]s, layer texts, Python views, facts, the
// operator context) to one buffer per scope, one document per line. Per slice of whole
// documents, one Hyperscan pass finds the rules that can match there: the pattern
// prefilter for ASCII slices when the rules have one, otherwise the literals the rules
// require (FilteredRE2 atoms). Only those rules are searched in that slice, and each hit is
// confirmed on its own document with the rule's single-document pattern and `unless`.
// Cost: one prefilter pass per slice plus regex work only where a rule can match.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rule.hpp"

namespace nonaxis::ciso::detail {

// Where a document came from, so a hit can be mapped back to a position in the content.
struct DocOrigin {
  std::size_t frame = 0;    // the scanner's layer the document belongs to
  std::size_t offset = 0;   // offset of the document inside that layer's text
  bool exact = false;       // true: offsets inside the document are offsets in the layer text
  std::size_t seq = 0;      // order of creation, across scopes
};

struct BatchHit {
  const Rule* rule;
  Scope scope;
  std::size_t doc;     // index among the documents of `scope`
  std::size_t offset;  // where the match starts inside the document
};

class MatchBatch {
 public:
  // Empty documents are dropped: no rule is meant to match nothing.
  void add(Scope scope, std::string_view text, const DocOrigin& origin);
  bool empty() const { return count_ == 0; }

  // Finds every (rule, document) match, at most one per pair. Throws std::runtime_error when
  // RE2 cannot complete the literal pass (DFA out of memory): the analysis must then fail closed.
  std::vector<BatchHit> match(const RuleSet& rules) const;

  std::string_view text(Scope scope, std::size_t doc) const;
  const DocOrigin& origin(Scope scope, std::size_t doc) const { return docs_[index(scope)][doc].origin; }

 private:
  struct Doc {
    std::size_t begin;  // in regions_[scope]
    std::size_t size;
    DocOrigin origin;
  };
  static std::size_t index(Scope s) { return static_cast<std::size_t>(s); }

  std::array<std::string, kScopeCount> regions_;  // documents of one scope, each followed by '\n'
  std::array<std::vector<Doc>, kScopeCount> docs_;
  std::size_t count_ = 0;
};

}  // namespace nonaxis::ciso::detail
