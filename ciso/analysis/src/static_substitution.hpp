#pragma once
// Command substitutions whose output is fixed by their own text. `cat $(echo L2V0Yy9zaGFkb3c= |
// base64 -d)` is `cat /etc/shadow`, and `c$()url` is `curl`: the shell computes those words
// before it runs anything, so the reader does the same for the few pure commands that hide a
// word this way (echo, printf, and decoders after them) and leaves every other substitution a
// run-time value.
#include <optional>
#include <string>
#include <string_view>

#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

// The output of `$(inner)` (trailing newlines removed, as the shell does) when `inner` is
// empty or a pipeline of `echo`/`printf` followed by `base64 -d`, `xxd -r -p` or `rev`; nothing
// when it depends on anything else. `vars` are the script variables the words may use.
std::optional<std::string> static_substitution_output(std::string_view inner, const VarMap& vars);

}  // namespace nonaxis::ciso::detail
