#pragma once
// Reads Python source for what it imports and calls: shell commands it hands to os/subprocess,
// files it opens for writing, sockets it connects, and string tricks that hide names.
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

struct PythonView {
  std::string joined;                   // source with 'a' + 'b' and "".join([...]) literals folded
                                        // and module constants replaced by their literal
  std::vector<std::string> imports;
  std::vector<Embedded> shell_commands;  // string arguments of os.system / subprocess.* / pty.spawn
  std::vector<Embedded> reversed;       // 'abc'[::-1] literals, un-reversed
  std::vector<Embedded> rot13;          // codecs.decode('...', 'rot13') literals, decoded
  std::vector<FsWrite> writes;          // open(path, 'w'/'a'/'x')
};

bool looks_like_python(std::string_view text);
PythonView read_python(std::string_view text);

}  // namespace nonaxis::ciso::detail
