#pragma once
// What a parsed command effectively runs: wrappers that only change how a program is
// started (sudo, env, nohup, timeout, xargs, ...) are peeled off, so rules see the program.
#include <string>
#include <vector>

#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

struct EffectiveCommand {
  std::vector<std::string> argv;  // argv[0] is the program as written
  std::string name;               // basename of argv[0]
  std::string elevation;          // "sudo", "doas", "pkexec" when run with elevated rights
  std::string rendered;           // "name arg1 arg2 >target": the Command scope document
  std::string argv0_doc;          // "[sudo ]/path/as/written": the Argv0 scope document
};

// Takes `words` by value: the program and its arguments are moved into argv, not copied again.
EffectiveCommand effective_command(std::vector<std::string> words, const std::vector<Redirect>& redirects);
EffectiveCommand effective_command(const Command& c);

std::string basename_of(const std::string& path);
bool is_shell_name(const std::string& name);
bool is_python_name(const std::string& name);

}  // namespace nonaxis::ciso::detail
