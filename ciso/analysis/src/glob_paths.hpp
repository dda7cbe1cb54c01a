#pragma once
// Glob words that stand for one well-known path. `cat /e*c/sh*w` and `/???/??t /???/p??s??`
// are `cat /etc/shadow` and `/bin/cat /etc/passwd` to the shell, but no rule that looks for
// those names can see them. A glob is matched against a fixed list of the sensitive files and
// programs the rules care about; when exactly one entry matches, the command is rendered a
// second time with that path spelled out.
#include <string>
#include <string_view>
#include <vector>

#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

// Whether the shell glob `pattern` (`?`, `*`, `[...]`, `[!...]`) matches all of `path`.
// Wildcards never match '/', as in pathname expansion (fnmatch(3) with FNM_PATHNAME).
bool glob_matches(std::string_view pattern, std::string_view path);

// The one listed path `word` can expand to, or empty when it is no glob, matches none, or
// matches several.
std::string_view known_path_for_glob(std::string_view word);

// Whether a glob spells its path out of wildcards (wildcards in two or more path segments,
// or three or more `?`), which ordinary shorthand (`/var/log/sys*`) does not.
bool glob_hides_name(std::string_view word);

struct GlobResolution {
  std::string word;  // as written
  std::string path;  // what it stands for
};

// Replaces, in `c`'s words and file redirection targets, each glob that stands for one listed
// path by that path; returns what was replaced.
std::vector<GlobResolution> resolve_known_globs(Command& c);

}  // namespace nonaxis::ciso::detail
