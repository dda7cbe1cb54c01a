#pragma once
// The recursive analysis driver. It parses content as shell, Python, Perl, Ruby, Node.js or
// PHP, renders each command for the rules, follows everything that runs code (sh -c, eval,
// here-docs, python -c, perl -e, os.system, system(), find -exec, decoded blobs, reversed
// strings) into a new layer, and records evidence. Every rendering becomes a document of one
// MatchBatch; finish() matches them all at once. Depth and bytes are budgeted; exceeding a
// budget throws BudgetExceeded.
#include <cstddef>
#include <deque>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "glob_paths.hpp"
#include "match_batch.hpp"
#include "rule.hpp"
#include "script_source.hpp"
#include "shell_command.hpp"
#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

// A command as the shell really runs it, when that differs from its spelling: static
// substitutions replaced by their output, relative paths joined to the directory a `cd` moved
// to, globs that stand for one listed path spelled out (`globs` names those).
struct ResolvedReading {
  Command command;
  EffectiveCommand ec;
  std::vector<GlobResolution> globs;
};

// Every command of one parse in both forms, computed once and shared by the command,
// pipeline and substitution passes.
struct CommandForms {
  std::vector<EffectiveCommand> ecs;
  std::vector<std::optional<ResolvedReading>> resolved;
};

struct BudgetExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Limits {
  std::size_t max_depth = 8;                  // nested layers: sh -c inside eval inside base64 ...
  std::size_t max_scanned_bytes = 16u << 20;  // all layers together
  std::size_t max_blobs_per_layer = 64;
  std::size_t max_layers = 256;
};

class Scanner {
 public:
  Scanner(const RuleSet& rules, Evidence& ev, Limits limits = {});

  void scan_content(std::string_view content, bool is_command);
  void scan_context(std::string_view context);
  // After scanning: records a fact for each destination missing from declared_hosts.
  void flag_undocumented(const std::vector<std::string>& declared_hosts);
  // Matches every document collected so far and appends the findings to the evidence.
  void finish();

 private:
  struct Frame {
    std::size_t id = 0;
    std::size_t base = 0;  // offset of this layer in the content
    bool fixed = false;    // true: offsets inside do not map to the content; report `base`
    std::size_t depth = 0;
    std::string layer;     // "" at the top; otherwise what this layer is
    std::size_t at(std::size_t off) const { return fixed ? base : base + off; }
  };
  // A decoded layer: if anything strong is found inside it, the hiding is a finding too.
  struct DecodedCheck {
    std::size_t frame;   // the layer that held the encoded form
    std::size_t offset;  // where the encoded form starts in it
    std::string kind;
    std::size_t seq_begin, seq_end;  // documents created while scanning the decoded layer
  };

  const Frame& child(const Frame& parent, std::size_t off, bool fixed, std::string what);
  void scan_shell(std::string_view text, const Frame& f, VarMap vars);
  void scan_python(std::string_view text, const Frame& f);
  // Text rules over the whole file; the shell form of its RUN instructions as a script.
  void scan_dockerfile(std::string_view text, const Frame& f);
  void scan_script(ScriptLang lang, std::string_view code, const Frame& f);
  // Text rules, destinations (from `destinations` when given: a folded view of `text`) and
  // encoded blobs.
  void scan_text(std::string_view text, const Frame& f, std::optional<std::string_view> destinations = std::nullopt);
  void scan_layer(std::string_view text, const Frame& f);  // language by content
  void scan_written(std::string_view text, std::string_view path, const Frame& f);  // language by file name too
  void scan_command(std::string_view text, const ParsedShell& p, const CommandForms& forms, std::size_t index,
                    const Frame& f, VarMap& vars);
  void scan_command_words(std::string_view text, const Command& c, const EffectiveCommand& ec,
                          const std::optional<ResolvedReading>& resolved, const Frame& f, VarMap& vars);
  void follow_code(const Command& c, const EffectiveCommand& ec, const Frame& f, VarMap& vars);
  void decode_blobs(std::string_view text, const Frame& f);

  void doc(Scope scope, std::string_view text, std::size_t off, bool exact, const Frame& f);
  void fact(const std::string& text, std::size_t off, const Frame& f);
  void charge(std::size_t bytes, const Frame& f);
  void collect(const MatchBatch& batch, const std::vector<BatchHit>& hits);

  const RuleSet& rules_;
  Evidence& ev_;
  Limits limits_;
  std::deque<Frame> frames_;  // deque: references stay valid as layers are added
  MatchBatch batch_;
  std::size_t seq_ = 0;
  std::vector<DecodedCheck> decoded_;
  std::size_t scanned_ = 0;
  std::size_t layers_ = 0;
  std::set<std::string> downloaded_;
  std::set<std::size_t> decoded_seen_;
};

}  // namespace nonaxis::ciso::detail
