#pragma once
// A POSIX sh / bash reader that is good enough to see what a script runs: quoting, escapes,
// $'..' ANSI-C strings, pipes and lists, command/process substitution, here-docs, and
// expansion of variables the script itself assigned (so `a=cu;b=rl;$a$b` reads as curl), and
// `for` loop variables bound to their lists.
// It never executes anything and never fails: unknown syntax degrades to plain words.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nonaxis::ciso::detail {

struct Word {
  std::string text;        // after quote removal and expansion of known variables
  std::size_t offset = 0;  // byte offset of the word in the parsed text
  bool quoted = false;     // any part was quoted
  bool dynamic = false;    // contains an unresolved expansion or a substitution
  bool from_variables = false;  // the text was produced by expanding script variables
  bool assignment = false;      // NAME=value spelling
  // The word with static command substitutions (`$(echo L2V0Yy9zaGFkb3c= | base64 -d)`)
  // replaced by their output; only set when there was one (static_substitution.hpp).
  std::optional<std::string> alt;
};

struct Redirect {
  std::string op;      // ">", ">>", "<", "<<", "<<-", "<<<", "&>", ">&", "2>" ...
  std::string target;  // path, fd, here-doc delimiter, or here-string
  std::string body;    // here-doc body
  std::size_t offset = 0;
};

struct Command {
  std::vector<Word> words;
  // name and value; no value when it is only known at run time (`D=$(mktemp -d)`), which
  // leaves `$D` unexpanded rather than empty, so `rm -rf $D/` is not read as `rm -rf /`.
  std::vector<std::pair<std::string, std::optional<std::string>>> assignments;
  std::vector<Redirect> redirects;
  std::size_t offset = 0;
  std::string cwd;           // the directory a cd/pushd before it moved to; "" if not known
  std::size_t pipeline = 0;  // commands joined by | share a pipeline index
  bool piped_in = false;
  bool piped_out = false;
};

struct Embedded {
  std::string text;
  std::size_t offset = 0;
};

struct ParsedShell {
  std::vector<Command> commands;
  std::vector<Embedded> substitutions;  // bodies of $(..), `..`, <(..), >(..)
  std::size_t ifs_expansions = 0;       // ${IFS} used as a word separator
  std::size_t ansi_c_encoded = 0;       // letters/digits spelled as \xNN or \NNN inside $'..'
  std::size_t pipelines = 0;
};

// Script variables by name; "0".."9" are positional parameters, bound only where the caller
// knows them (`sh -c SCRIPT NAME ARG...`).
using VarMap = std::unordered_map<std::string, std::string>;

// Parses `src`. `vars` carries assignments across calls (a nested `sh -c` sees the parent's).
ParsedShell parse_shell(std::string_view src, VarMap& vars);

// Decodes the body of a $'...' string. Counts escapes that spell printable characters.
std::string decode_ansi_c(std::string_view body, std::size_t* encoded_printables);

}  // namespace nonaxis::ciso::detail
