#include "literal_set.hpp"

#include <algorithm>
#include <deque>

namespace nonaxis::ciso::detail {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
// A transition's top bit says the target state ends a literal, so the scan loop needs no
// second lookup per byte to know whether to report.
constexpr std::uint32_t kOutputBit = 1u << 31;
constexpr std::uint32_t kRowMask = kOutputBit - 1;

unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + ('a' - 'A')) : c; }

}  // namespace

LiteralSet::LiteralSet(const std::vector<std::string>& literals) : size_(literals.size()) {
  std::array<std::uint16_t, 256> column{};
  for (const std::string& l : literals) {
    for (const char ch : l) {
      const unsigned char c = fold(static_cast<unsigned char>(ch));
      ascii_ = ascii_ && c < 0x80;
      if (column[c] == 0) column[c] = static_cast<std::uint16_t>(classes_++);
    }
  }
  for (unsigned c = 'A'; c <= 'Z'; ++c) column[c] = column[c + ('a' - 'A')];
  for (std::size_t c = 0; c < 256; ++c) class_of_[c] = static_cast<std::uint8_t>(column[c]);  // at most 231 columns
  const std::size_t cols = classes_;

  // The trie of the literals, then (breadth first) failure links that complete it into a DFA.
  std::vector<std::uint32_t> trie(cols, kNone);
  std::vector<std::vector<int>> out(1);
  for (std::size_t i = 0; i < literals.size(); ++i) {
    std::size_t s = 0;
    for (const char ch : literals[i]) {
      const std::size_t at = s * cols + class_of_[fold(static_cast<unsigned char>(ch))];
      if (trie[at] == kNone) {
        trie[at] = static_cast<std::uint32_t>(out.size());
        out.emplace_back();
        trie.resize(out.size() * cols, kNone);
      }
      s = trie[at];
    }
    out[s].push_back(static_cast<int>(i));
  }
  const std::size_t states = out.size();
  std::vector<std::uint32_t> next(states * cols, 0);
  std::vector<std::uint32_t> fail(states, 0);
  std::deque<std::uint32_t> queue;
  for (std::size_t c = 0; c < cols; ++c) {
    if (trie[c] == kNone) continue;
    next[c] = trie[c];
    queue.push_back(trie[c]);
  }
  while (!queue.empty()) {
    const std::uint32_t s = queue.front();
    queue.pop_front();
    for (std::size_t c = 0; c < cols; ++c) {
      const std::uint32_t t = trie[s * cols + c];
      const std::uint32_t via_fail = next[fail[s] * cols + c];
      if (t == kNone) {
        next[s * cols + c] = via_fail;
        continue;
      }
      // A literal ending at the longest proper suffix of t's text also ends at t; that
      // state is shallower, so its list is already complete.
      fail[t] = via_fail;
      out[t].insert(out[t].end(), out[via_fail].begin(), out[via_fail].end());
      next[s * cols + c] = t;
      queue.push_back(t);
    }
  }

  next_.resize(next.size());
  for (std::size_t i = 0; i < next.size(); ++i) {
    next_[i] = static_cast<std::uint32_t>(next[i] * cols) | (out[next[i]].empty() ? 0 : kOutputBit);
  }
  out_begin_.reserve(states + 1);
  for (const std::vector<int>& o : out) {
    out_begin_.push_back(static_cast<std::uint32_t>(outputs_.size()));
    outputs_.insert(outputs_.end(), o.begin(), o.end());
  }
  out_begin_.push_back(static_cast<std::uint32_t>(outputs_.size()));
}

void LiteralSet::find(std::string_view text, std::vector<int>& found, Scratch& scratch) const {
  found.clear();
  const std::size_t states = out_begin_.size() - 1;
  if (scratch.state_seen.size() < states) scratch.state_seen.resize(states, 0);
  if (scratch.literal_seen.size() < size_) scratch.literal_seen.resize(size_, 0);
  if (++scratch.call == 0) {  // wrapped: forget every earlier call
    std::fill(scratch.state_seen.begin(), scratch.state_seen.end(), 0);
    std::fill(scratch.literal_seen.begin(), scratch.literal_seen.end(), 0);
    scratch.call = 1;
  }
  const std::uint32_t call = scratch.call;
  // States are reported once each: common short literals ("/", " -") end at many states
  // and recur on every line, and a state's list holds every literal ending there.
  auto report = [&](std::size_t state) {
    if (scratch.state_seen[state] == call) return;
    scratch.state_seen[state] = call;
    for (std::uint32_t k = out_begin_[state]; k < out_begin_[state + 1]; ++k) {
      const int id = outputs_[k];
      std::uint32_t& seen = scratch.literal_seen[static_cast<std::size_t>(id)];
      if (seen == call) continue;
      seen = call;
      found.push_back(id);
    }
  };
  report(0);  // an empty literal occurs in every text
  // Raw pointers: _GLIBCXX_ASSERTIONS would otherwise bounds-check both lookups of every byte.
  const std::uint32_t* const next = next_.data();
  const std::uint8_t* const class_of = class_of_.data();
  std::uint32_t row = 0;
  for (const char ch : text) {
    const std::uint32_t e = next[row + class_of[static_cast<unsigned char>(ch)]];
    row = e & kRowMask;
    if ((e & kOutputBit) != 0) report(row / classes_);
  }
}

bool LiteralSet::exact_for(std::string_view text) const {
  return ascii_ && text.find("\xE2\x84\xAA") == std::string_view::npos && text.find("\xC5\xBF") == std::string_view::npos;
}

}  // namespace nonaxis::ciso::detail
