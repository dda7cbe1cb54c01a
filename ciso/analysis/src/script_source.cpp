#include "script_source.hpp"

#include <re2/re2.h>

#include <cctype>
#include <unordered_map>

#include "decoders.hpp"

namespace nonaxis::ciso::detail {
namespace {

using re2::RE2;
using re2::StringPiece;

std::size_t pos_of(std::string_view base, const StringPiece& p) { return static_cast<std::size_t>(p.data() - base.data()); }

// A quoted literal as the interpreter sees it: escapes decoded in double quotes and
// backticks, only \\ and \' in single quotes.
std::string literal(std::string_view quoted) {
  if (quoted.size() < 2) return std::string(quoted);
  const char q = quoted.front();
  const std::string_view body = quoted.substr(1, quoted.size() - 2);
  if (q != '\'') return decode_ansi_c(body, nullptr);
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size() && (body[i + 1] == '\'' || body[i + 1] == '\\')) ++i;
    out.push_back(body[i]);
  }
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// `$i="203.0.113.5"`, `$p=4444`, `var host = 'x'`, `h = "x"`: literal assignments, so socket
// arguments spelled as variables still name a destination.
using Vars = std::unordered_map<std::string, std::string>;
Vars literal_vars(std::string_view code) {
  static const RE2 assign(R"re((?:\$|\b(?:var|let|const|my)\s+\$?|\b)([A-Za-z_]\w*)\s*=\s*("[^"\n]*"|'[^'\n]*'|\d{1,5})\s*[;,\n)])re");
  Vars v;
  StringPiece in(code.data(), code.size());
  std::string name, value;
  while (RE2::FindAndConsume(&in, assign, &name, &value)) v[name] = value[0] == '"' || value[0] == '\'' ? literal(value) : value;
  return v;
}

std::string resolve(const std::string& arg, const Vars& vars) {
  if (arg.empty()) return arg;
  if (arg[0] == '"' || arg[0] == '\'') return literal(arg);
  if (all_digits(arg)) return arg;
  const std::string name = arg[0] == '$' ? arg.substr(1) : arg;
  auto it = vars.find(name);
  return it != vars.end() ? it->second : std::string();
}

void add_socket(ScriptView& v, std::string host, std::string port, std::size_t off) {
  if (all_digits(host) && !all_digits(port)) std::swap(host, port);  // node: connect(port, host)
  if (port.empty()) {
    if (const auto c = host.rfind(':'); c != std::string::npos && all_digits(host.substr(c + 1))) {
      port = host.substr(c + 1);
      host.resize(c);
    }
  }
  if (host.empty()) return;
  const int p = all_digits(port) && port.size() <= 5 ? std::stoi(port) : 0;
  v.sockets.push_back({host, p, "tcp", "socket opened by script code", off});
}

}  // namespace

bool script_lang_of(const std::string& n, ScriptLang& out) {
  auto starts = [&](const char* p) { return n.rfind(p, 0) == 0; };
  if (starts("perl")) out = ScriptLang::Perl;
  else if (starts("ruby") || n == "irb" || n == "jruby") out = ScriptLang::Ruby;
  else if (n == "node" || n == "nodejs" || n == "deno" || n == "bun") out = ScriptLang::Node;
  else if (starts("php")) out = ScriptLang::Php;
  else if (n == "awk" || n == "gawk" || n == "mawk" || n == "nawk") out = ScriptLang::Awk;
  else return false;
  return true;
}

const char* to_string(ScriptLang l) {
  switch (l) {
    case ScriptLang::Perl: return "perl";
    case ScriptLang::Ruby: return "ruby";
    case ScriptLang::Node: return "node";
    case ScriptLang::Php: return "php";
    case ScriptLang::Awk: return "awk";
  }
  return "script";
}

std::vector<std::string> inline_code(ScriptLang lang, const std::vector<std::string>& a) {
  std::vector<std::string> out;
  if (lang == ScriptLang::Awk) {
    // awk [-F sep] [-v var=val] 'program' files...; with -f the program is a file.
    for (std::size_t i = 1; i < a.size(); ++i) {
      const std::string& s = a[i];
      if (s == "-f" || s.rfind("--file", 0) == 0) return out;
      if (s == "-F" || s == "-v") {
        ++i;
        continue;
      }
      if (s.size() > 1 && s[0] == '-') continue;
      out.push_back(s);
      return out;
    }
    return out;
  }
  for (std::size_t i = 1; i + 1 < a.size(); ++i) {
    const std::string& s = a[i];
    if (s.size() < 2 || s[0] != '-') break;  // the script file: the rest are its arguments
    bool takes_code = false;
    switch (lang) {
      case ScriptLang::Perl:
      case ScriptLang::Ruby:
        // -e, -E and bundles such as -ne, -lne, -pie; not -Mmodule / -Idir / -rlib values.
        takes_code = s[1] != '-' && s[1] != 'M' && s[1] != 'I' && s[1] != 'm' && s[1] != 'r' && s[1] != 'x' &&
                     (s.back() == 'e' || s.back() == 'E');
        break;
      case ScriptLang::Node: takes_code = s == "-e" || s == "--eval" || s == "-p" || s == "--print"; break;
      case ScriptLang::Php: takes_code = s == "-r" || s == "--run" || s == "-B" || s == "-R" || s == "-E"; break;
      case ScriptLang::Awk: break;
    }
    if (takes_code) out.push_back(a[++i]);
    else if ((lang == ScriptLang::Ruby && s == "-r") || (lang == ScriptLang::Node && (s == "-r" || s == "--require"))) ++i;
  }
  return out;
}

ScriptView read_script(ScriptLang lang, std::string_view code) {
  ScriptView v;
  const StringPiece text(code.data(), code.size());
  const Vars vars = literal_vars(code);

  // Commands handed to a shell or exec'd directly.
  static const RE2 call(
      R"re((?:\b(?:system|exec|execSync|spawn|spawnSync|execFile|execFileSync|shell_exec|passthru|popen|proc_open|pcntl_exec)|IO\.popen|Open3\.\w+|os\.execute|Kernel\.\w+)\s*\(?\s*(?:(?:sprintf|format)\s*\(\s*)?("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`))re");
  static const RE2 quoted_exec(R"re((?:\bqx|%x)\s*(?:\{([^}]*)\}|\(([^)]*)\)|\[([^\]]*)\]|/([^/]*)/))re");
  static const RE2 backticks(R"re(`([^`\n]+)`)re");
  static const RE2 pipe_open(R"re(\bopen\s*\(?\s*[\w$]+\s*,\s*(?:"-?\|\s*([^"]+)"|'-?\|\s*([^']+)'|"([^"|]+)\|"|'([^'|]+)\|'))re");
  StringPiece in = text;
  std::string q;
  while (RE2::FindAndConsume(&in, call, &q)) v.shell_commands.push_back({literal(q), pos_of(code, in)});
  in = text;
  std::string b1, b2, b3, b4;
  while (RE2::FindAndConsume(&in, quoted_exec, &b1, &b2, &b3, &b4)) {
    v.shell_commands.push_back({b1 + b2 + b3 + b4, pos_of(code, in)});
  }
  if (lang != ScriptLang::Node) {  // in JavaScript, backticks are template strings
    in = text;
    while (RE2::FindAndConsume(&in, backticks, &q)) v.shell_commands.push_back({q, pos_of(code, in)});
  }
  if (lang == ScriptLang::Perl) {
    in = text;
    while (RE2::FindAndConsume(&in, pipe_open, &b1, &b2, &b3, &b4)) {
      v.shell_commands.push_back({b1 + b2 + b3 + b4, pos_of(code, in)});
    }
  }

  static const RE2 socket(
      R"re(\bsocket\s*\(|IO::Socket|\b(?:TCP|UDP|UNIX)(?:Socket|Server)\b|Socket\.(?:tcp|udp|new)\b|\bnet\.(?:connect|createConnection|createServer|Socket)\b|require\(\s*["'](?:node:)?(?:net|tls|dgram)["']\s*\)|\bp?fsockopen\s*\(|\bstream_socket_(?:client|server)\s*\(|\bsocket_(?:create|connect)\s*\(|/inet6?/(?:tcp|udp)/)re");
  v.opens_socket = RE2::PartialMatch(text, socket);

  if (v.opens_socket) {
    static const std::string arg = R"re(("[^"\n]*"|'[^'\n]*'|\$?\w+))re";
    static const RE2 dest_pair(R"re((?:\b(?:TCP|UDP)Socket\.(?:new|open)|Socket\.tcp|\.connect|createConnection|\bp?fsockopen|socket_connect\s*\(\s*\$\w+\s*,)\s*\(?\s*)re" + arg +
                               R"re(\s*,\s*)re" + arg);
    static const RE2 peer(R"re(PeerAddr\s*(?:=>|,)\s*)re" + arg + R"re((?:\s*,\s*PeerPort\s*(?:=>|,)\s*)re" + arg + ")?");
    static const RE2 inet_new(R"re(IO::Socket::(?:INET6?|IP)\s*->\s*new\s*\(\s*)re" + arg + R"re(\s*[,)])re");
    static const RE2 sockaddr(R"re(sockaddr_in\(\s*)re" + arg + R"re(\s*,\s*inet_aton\(\s*)re" + arg);
    static const RE2 inet(R"re(/inet6?/(?:tcp|udp)/\d+/([^/"'\s]+)/(\d+))re");
    std::string x, y;
    in = text;
    while (RE2::FindAndConsume(&in, dest_pair, &x, &y)) add_socket(v, resolve(x, vars), resolve(y, vars), pos_of(code, in));
    in = text;
    while (RE2::FindAndConsume(&in, peer, &x, &y)) add_socket(v, resolve(x, vars), resolve(y, vars), pos_of(code, in));
    in = text;
    while (RE2::FindAndConsume(&in, inet_new, &x)) add_socket(v, resolve(x, vars), "", pos_of(code, in));
    in = text;
    while (RE2::FindAndConsume(&in, sockaddr, &x, &y)) add_socket(v, resolve(y, vars), resolve(x, vars), pos_of(code, in));
    in = text;
    while (RE2::FindAndConsume(&in, inet, &x, &y)) add_socket(v, x, y, pos_of(code, in));

    static const RE2 wiring(
        R"re(\bopen\s*\(\s*\*?STD(?:IN|OUT|ERR)\s*,\s*["'][<>+]*&|fdopen\s*\(|\$std(?:in|out|err)\.reopen|\bdup2\s*\(|\.pipe\(\s*\w+\.stdin\b|\.stdout\.pipe\(|<&\s*(?:%d|\d+)|>&\s*(?:%d|\d+)|\bdescriptorspec\b|array\(\s*0\s*=>\s*\$\w+|\bwhile\s*\(?\s*<\s*\$?\w*\s*>|\|&\s*getline|\bsh\s+-i\b|\bbash\s+-i\b|\b(?:system|exec|popen|IO\.popen|spawn|execSync|shell_exec|passthru|eval)\s*\(?\s*\$?[A-Za-z_][\w.$]*(?:\([^()]*\))?\s*[,);}])re");
    v.wires_streams = RE2::PartialMatch(text, wiring);
  }
  static const RE2 shell_name(R"re(["'`](?:/usr)?(?:/bin/)?(?:ba|z|da|k|c|tc)?sh(?:\s+-i)?["'\s]|\bcmd(?:\.exe)?["']|\bpowershell\b)re");
  v.runs_shell = RE2::PartialMatch(text, shell_name);

  static const RE2 eval_decoded(
      R"re(\b(?:eval|assert|Function|create_function|instance_eval|class_eval|module_eval|runInThisContext|runInNewContext)\s*\(?\s*(?:[\w:]+(?:\.|::|->))*(?:base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|decode_base64|decode64|strict_decode64|urlsafe_decode64|unpack1?|pack|atob|from|hex2bin|rawurldecode|urldecode|convert_uudecode|reverse|strrev|fromCharCode|chr)\b)re");
  v.evals_decoded = RE2::PartialMatch(text, eval_decoded);

  static const RE2 fetch(
      R"re(LWP::|\bgetstore\s*\(|\bget\s*\(\s*["']https?://|open-uri|URI\.open|URI\.parse|Net::HTTP|\bhttps?\.get\s*\(|\brequire\(\s*["']https?["']\)|\bfetch\s*\(|\bfile_get_contents\s*\(\s*["']https?://|\bcurl_exec\b|\bfopen\s*\(\s*["']https?://)re");
  static const RE2 runs(R"re(\b(?:eval|Function|instance_eval|assert|runInThisContext|runInNewContext)\s*\(|\beval\s+\$?\w|\b(?:system|exec|execSync|spawn|passthru|shell_exec)\s*\()re");
  static const RE2 remote_include(R"re(\b(?:include|require)(?:_once)?\s*\(?\s*["']https?://)re");
  v.evals_download = (RE2::PartialMatch(text, fetch) && RE2::PartialMatch(text, runs)) || RE2::PartialMatch(text, remote_include);

  if (lang == ScriptLang::Php) {
    static const RE2 webshell(
        R"re(\b(?:eval|assert|system|exec|shell_exec|passthru|popen|proc_open|create_function)\s*\(\s*(?:\w+\s*\(\s*)*\$_(?:GET|POST|REQUEST|COOKIE|SERVER|FILES)\b)re");
    v.evals_request_input = RE2::PartialMatch(text, webshell);
  }

  // Explicit decoding calls: their argument is analysed as a new layer whatever its length.
  static const RE2 b64_call(
      R"re((?:decode_base64|decode64|strict_decode64|urlsafe_decode64|base64_decode|atob)\s*\(\s*("[A-Za-z0-9+/=_\-\s]*"|'[A-Za-z0-9+/=_\-\s]*')|Buffer\.from\(\s*("[A-Za-z0-9+/=]*"|'[A-Za-z0-9+/=]*')\s*,\s*["']base64["']|("[A-Za-z0-9+/=]*"|'[A-Za-z0-9+/=]*')\.unpack1?\(\s*["']m0?["'])re");
  static const RE2 hex_call(
      R"re(pack\(\s*["']H\*["']\s*,\s*("[0-9a-fA-F]*"|'[0-9a-fA-F]*')|hex2bin\(\s*("[0-9a-fA-F]*"|'[0-9a-fA-F]*')|Buffer\.from\(\s*("[0-9a-fA-F]*"|'[0-9a-fA-F]*')\s*,\s*["']hex["'])re");
  in = text;
  std::string s1, s2, s3;
  while (RE2::FindAndConsume(&in, b64_call, &s1, &s2, &s3)) {
    std::string enc = literal(s1 + s2 + s3);
    std::string clean;
    for (char c : enc) {
      if (c == '-') clean.push_back('+');
      else if (c == '_') clean.push_back('/');
      else if (std::isspace(static_cast<unsigned char>(c)) == 0) clean.push_back(c);
    }
    std::string d = decode_base64(clean);
    if (mostly_printable(d)) v.decoded.push_back({std::move(d), pos_of(code, in)});
  }
  in = text;
  while (RE2::FindAndConsume(&in, hex_call, &s1, &s2, &s3)) {
    const std::string hex = literal(s1 + s2 + s3);
    std::string d;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) d.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    if (mostly_printable(d)) v.decoded.push_back({std::move(d), pos_of(code, in)});
  }
  return v;
}

}  // namespace nonaxis::ciso::detail
