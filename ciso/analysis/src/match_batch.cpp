#include "match_batch.hpp"

#include <algorithm>
#include <stdexcept>

namespace nonaxis::ciso::detail {

void MatchBatch::add(Scope scope, std::string_view text, const DocOrigin& origin) {
  if (text.empty()) return;
  std::string& r = regions_[index(scope)];
  docs_[index(scope)].push_back({r.size(), text.size(), origin});
  r.append(text);
  r.push_back('\n');
  ++count_;
}

std::string_view MatchBatch::text(Scope scope, std::size_t doc) const {
  const Doc& d = docs_[index(scope)][doc];
  return std::string_view(regions_[index(scope)]).substr(d.begin, d.size);
}

namespace {

// Runs the literal set over one slice. Throws when RE2 cannot complete it (DFA out of
// memory), so the analysis fails closed instead of missing rules.
void find_atoms(const re2::RE2::Set& atoms, re2::StringPiece slice, std::vector<int>& found) {
  found.clear();
  re2::RE2::Set::ErrorInfo err{};
  if (!atoms.Match(slice, &found, &err) && err.kind != re2::RE2::Set::kNoError) {
    throw std::runtime_error("rule prefilter could not complete (RE2 set error " + std::to_string(err.kind) + ")");
  }
}

}  // namespace

std::vector<BatchHit> MatchBatch::match(const RuleSet& rules) const {
  std::vector<BatchHit> hits;
  std::vector<int> atoms;
  std::vector<int> potentials;
  thread_local HsScratch scratch;  // fitted to each rule set once per thread
  for (std::size_t s = 0; s < kScopeCount; ++s) {
    const RuleSet::ScopeSet& idx = rules.by_scope[s];
    const std::vector<Doc>& docs = docs_[s];
    if (!idx.filter || docs.empty()) continue;
    const std::string& region = regions_[s];
    // Work per slice of whole documents (about kSlice bytes): the literal set runs once over
    // the slice, and a rule is searched only in slices holding its literals, so its regex
    // (often `.*`-heavy) runs over a few hundred bytes instead of the whole request. A
    // document is never split, so a slice sees exactly what each single-document match can.
    constexpr std::size_t kSlice = 512;
    for (std::size_t d = 0; d < docs.size();) {
      const std::size_t from = docs[d].begin;
      std::size_t e = d + 1;
      while (e < docs.size() && docs[e].begin + docs[e].size + 1 - from <= kSlice) ++e;
      const std::size_t to = docs[e - 1].begin + docs[e - 1].size + 1;
      const re2::StringPiece slice(region.data() + from, to - from);
      if (idx.patterns && PatternPrefilter::usable_for(slice)) {
        idx.patterns->find(slice, potentials, scratch);
      } else {
        atoms.clear();
        if (idx.literals && idx.literals->exact_for(slice)) {
          idx.literals->find(slice, atoms, scratch);
        } else if (idx.atoms) {
          find_atoms(*idx.atoms, slice, atoms);
        }
        idx.filter->AllPotentials(atoms, &potentials);
      }
      for (int p : potentials) {
        const Rule& rule = rules.rules[idx.rule_of[static_cast<std::size_t>(p)]];
        auto confirm = [&](std::size_t di) {
          const Doc& doc = docs[di];
          const re2::StringPiece text(region.data() + doc.begin, doc.size);
          re2::StringPiece where;
          if (rule.pattern->Match(text, 0, text.size(), re2::RE2::UNANCHORED, &where, 1) &&
              !(rule.unless && re2::RE2::PartialMatch(text, *rule.unless))) {
            hits.push_back({&rule, static_cast<Scope>(s), di, static_cast<std::size_t>(where.data() - text.data())});
          }
        };
        // Every match of `pattern` in a document is also a match of `scan` in its slice (the
        // separators satisfy ^, $ and \b as the document's ends do), so the scan only skips
        // documents. A slice of one document (a short request, a whole script in Text scope)
        // has nothing to skip: searching it twice would only double the regex work.
        if (e == d + 1) {
          confirm(d);
          continue;
        }
        std::size_t pos = from;
        re2::StringPiece m;
        while (pos < to && rule.scan->Match(region, pos, to, re2::RE2::UNANCHORED, &m, 1)) {
          // The document holding the match start; a match may start on a separator ('$').
          const auto at = static_cast<std::size_t>(m.data() - region.data());
          auto it = std::upper_bound(docs.begin() + static_cast<std::ptrdiff_t>(d), docs.begin() + static_cast<std::ptrdiff_t>(e), at,
                                     [](std::size_t v, const Doc& x) { return v < x.begin; });
          const auto di = static_cast<std::size_t>(it - docs.begin()) - 1;
          confirm(di);
          pos = docs[di].begin + docs[di].size + 1;  // the next document
        }
      }
      d = e;
    }
  }
  return hits;
}

}  // namespace nonaxis::ciso::detail
