#pragma once
// Reads Perl, Ruby, Node.js and PHP code (one-liners given to -e/-r, code piped into the
// interpreter, or whole files) for what it really does: the shell commands it hands to
// system/exec/backticks/child_process, the sockets it opens and where to, whether it wires a
// socket to a shell's standard streams, what it decodes, and whether it evaluates code it
// decoded or downloaded. Linear time: a fixed number of RE2 passes over the code.
#include <string>
#include <string_view>
#include <vector>

#include "evidence.hpp"
#include "shell_parser.hpp"

namespace nonaxis::ciso::detail {

enum class ScriptLang { Perl, Ruby, Node, Php, Awk };

struct ScriptView {
  std::vector<Embedded> shell_commands;  // string arguments of system/exec/popen/backticks/spawn
  std::vector<Connection> sockets;       // socket destinations, variables resolved when assigned literally
  std::vector<Embedded> decoded;         // arguments of base64/hex decoding calls, decoded
  bool opens_socket = false;             // creates a client or server socket
  bool wires_streams = false;            // dups/pipes the socket to stdin/stdout, or spawns an interactive shell
  bool runs_shell = false;               // starts sh/bash/cmd itself
  bool evals_decoded = false;            // eval/Function/include of decoded or computed text
  bool evals_download = false;           // fetches a URL and evaluates or runs what came back
  bool evals_request_input = false;      // PHP eval/system of $_GET/$_POST/$_REQUEST/$_COOKIE (web shell)
};

// Interpreter name (perl, ruby, node, nodejs, php, awk, gawk, ...) -> language, if it is one.
bool script_lang_of(const std::string& name, ScriptLang& out);
const char* to_string(ScriptLang l);

// The code an interpreter command runs inline: perl -e/-E, ruby -e, node -e/--eval/-p,
// php -r, awk 'program'. Empty when the command runs a file or reads stdin.
std::vector<std::string> inline_code(ScriptLang lang, const std::vector<std::string>& argv);

ScriptView read_script(ScriptLang lang, std::string_view code);

}  // namespace nonaxis::ciso::detail
