#pragma once
// The recursive analysis driver. It parses content as shell or Python, renders each command
// for the rules, follows everything that runs code (sh -c, eval, here-docs, python -c,
// os.system, find -exec, decoded blobs, reversed strings) into a new layer, and records
// evidence. Depth and bytes are budgeted; exceeding a budget throws BudgetExceeded.
#include <cstddef>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "rule.hpp"
#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

struct BudgetExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Limits {
  std::size_t max_depth = 8;               // nested layers: sh -c inside eval inside base64 ...
  std::size_t max_scanned_bytes = 16u << 20;  // all layers together
  std::size_t max_blobs_per_layer = 64;
  std::size_t max_layers = 256;
};

class Scanner {
 public:
  Scanner(const RuleSet& rules, Evidence& ev, Limits limits = {}) : rules_(rules), ev_(ev), limits_(limits) {}

  void scan_content(std::string_view content, bool is_command);
  void scan_context(std::string_view context);
  // After scanning: records a fact for each destination missing from declared_hosts.
  void flag_undocumented(const std::vector<std::string>& declared_hosts);

 private:
  struct Frame {
    std::size_t base = 0;  // offset of this layer in the content
    bool fixed = false;    // true: offsets inside do not map to the content; report `base`
    std::size_t depth = 0;
    std::string layer;     // "" at the top; otherwise what this layer is
    std::size_t at(std::size_t off) const { return fixed ? base : base + off; }
    Frame child(std::size_t off, bool child_fixed, std::string what) const;
  };

  void scan_shell(std::string_view text, const Frame& f, VarMap vars);
  void scan_python(std::string_view text, const Frame& f);
  void scan_text(std::string_view text, const Frame& f);
  void scan_layer(std::string_view text, const Frame& f);  // language by content
  void scan_command(std::string_view text, const Command& c, const ParsedShell& p, std::size_t index, const Frame& f, VarMap& vars);
  void decode_blobs(std::string_view text, const Frame& f);

  void match(Scope scope, std::string_view doc, std::size_t doc_off, bool exact, const Frame& f);
  void fact(const std::string& text, std::size_t off, const Frame& f);
  void charge(std::size_t bytes, const Frame& f);
  std::size_t strong_findings() const;

  const RuleSet& rules_;
  Evidence& ev_;
  Limits limits_;
  std::size_t scanned_ = 0;
  std::size_t layers_ = 0;
  std::set<std::string> downloaded_;
  std::set<std::size_t> decoded_seen_;
};

}  // namespace nonaxis::ciso::detail
