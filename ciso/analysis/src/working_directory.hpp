#pragma once
// The directory a script has `cd`'d into, and what its relative paths then name.
// `cd / && rm -rf *` removes `/*` and `cd ~/.ssh && tar cz . | nc ...` sends `~/.ssh`: read as
// written, neither names a sensitive path. The parser records the directory each command runs
// in (script variable PWD, set by cd/pushd, so nested `sh -c` layers inherit it); the scanner
// renders the command a second time with its relative path operands joined to it.
#include <optional>
#include <string>
#include <string_view>

#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

// Applies `cd DIR` / `pushd DIR` / `popd` in `c` to vars["PWD"]. A directory the script does
// not spell out (`cd "$(mktemp -d)"`, `cd -`, a relative one from an unknown start) makes the
// directory unknown again: no guess is better than a wrong one.
void apply_directory_change(const Command& c, VarMap& vars);

// `rel` joined to `dir`, with leading `./` and `../` folded: ("/", "*") is "/*",
// ("~/.ssh", ".") is "~/.ssh", ("/var/log", "../lib") is "/var/lib".
std::string join_path(std::string_view dir, std::string_view rel);

// `c` with every relative path operand (and file redirection target) joined to the
// directory it runs in, or nothing when it has no known directory or no such operand.
std::optional<Command> resolved_in_directory(const Command& c);

}  // namespace nonaxis::ciso::detail
