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

std::vector<BatchHit> MatchBatch::match(const RuleSet& rules) const {
  std::vector<BatchHit> hits;
  std::vector<int> slice_hits;
  std::vector<std::size_t> candidates;
  for (std::size_t s = 0; s < kScopeCount; ++s) {
    const RuleSet::ScopeSet& idx = rules.by_scope[s];
    const std::vector<Doc>& docs = docs_[s];
    if (!idx.set || docs.empty()) continue;
    const std::string& region = regions_[s];
    const re2::StringPiece all(region.data(), region.size());
    // The set runs over slices of whole documents of about kSlice bytes. A set of many
    // patterns scanning one long buffer keeps many partial matches alive at once and its DFA
    // keeps creating states (measured: 0.6 MB/s over 16 KB of varied commands); restarting
    // at document boundaries bounds that. A document is never split, so what the set can
    // see is exactly what each single-document match can.
    constexpr std::size_t kSlice = 1024;
    std::vector<bool> seen(idx.rule_of.size(), false);
    candidates.clear();
    for (std::size_t d = 0; d < docs.size();) {
      const std::size_t from = docs[d].begin;
      std::size_t e = d + 1;
      while (e < docs.size() && docs[e].begin + docs[e].size + 1 - from <= kSlice) ++e;
      const std::size_t to = docs[e - 1].begin + docs[e - 1].size + 1;
      slice_hits.clear();
      re2::RE2::Set::ErrorInfo err{};
      if (!idx.set->Match(re2::StringPiece(region.data() + from, to - from), &slice_hits, &err) &&
          err.kind != re2::RE2::Set::kNoError) {
        throw std::runtime_error("rule matching could not complete (RE2 set error " + std::to_string(err.kind) + ")");
      }
      for (int h : slice_hits) {
        const auto k = static_cast<std::size_t>(h);
        if (!seen[k]) candidates.push_back(idx.rule_of[k]);
        seen[k] = true;
      }
      d = e;
    }
    std::sort(candidates.begin(), candidates.end());
    for (std::size_t c : candidates) {
      const Rule& rule = rules.rules[c];
      std::size_t pos = 0;
      re2::StringPiece m;
      while (pos < region.size() && rule.scan->Match(all, pos, region.size(), re2::RE2::UNANCHORED, &m, 1)) {
        // The document holding the match start; a match may start on a separator ('$').
        const auto at = static_cast<std::size_t>(m.data() - region.data());
        auto it = std::upper_bound(docs.begin(), docs.end(), at, [](std::size_t v, const Doc& x) { return v < x.begin; });
        const auto di = static_cast<std::size_t>(it - docs.begin()) - 1;
        const Doc& doc = docs[di];
        const re2::StringPiece text(region.data() + doc.begin, doc.size);
        re2::StringPiece where;
        if (rule.pattern->Match(text, 0, text.size(), re2::RE2::UNANCHORED, &where, 1) &&
            !(rule.unless && re2::RE2::PartialMatch(text, *rule.unless))) {
          hits.push_back({&rule, static_cast<Scope>(s), di, static_cast<std::size_t>(where.data() - text.data())});
        }
        pos = doc.begin + doc.size + 1;  // the next document
      }
    }
  }
  return hits;
}

}  // namespace nonaxis::ciso::detail
