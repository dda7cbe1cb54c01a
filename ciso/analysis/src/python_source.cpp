#include "python_source.hpp"

#include "decoders.hpp"
#include "identifier.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <unordered_map>

namespace nonaxis::ciso::detail {
namespace {

std::size_t off(std::string_view base, const re2::StringPiece& p) {
  return static_cast<std::size_t>(p.data() - base.data());
}

// Folds 'cu' + 'rl' into 'curl' and "".join([...]) into one literal, and spells __import__('os')
// and getattr(os, 'system') as os and os.system, so hidden names are visible to rules.
std::string fold_literals(std::string_view text) {
  std::string s(text);
  static const re2::RE2 plus_sq(R"re('\s*\+\s*')re");
  static const re2::RE2 plus_dq(R"re("\s*\+\s*")re");
  re2::RE2::GlobalReplace(&s, plus_sq, "");
  re2::RE2::GlobalReplace(&s, plus_dq, "");
  // "".join(["cu", "rl"]) -> "curl"
  static const re2::RE2 join(R"re(['"]{2}\.join\(\s*[\[(]((?:\s*['"][^'"]*['"]\s*,?)+)[\])]\s*\))re");
  std::string out;
  re2::StringPiece in(s);
  re2::StringPiece items;
  std::size_t last = 0;
  while (re2::RE2::FindAndConsume(&in, join, &items)) {
    const std::size_t end = static_cast<std::size_t>(in.data() - s.data());
    std::string folded;
    bool inside = false;
    for (char c : items) {
      if (c == '\'' || c == '"') {
        inside = !inside;
        continue;
      }
      if (inside) folded.push_back(c);
    }
    // Keep everything before the match, replace the match with one literal.
    const std::string& prefix_src = s;
    const std::size_t match_start = static_cast<std::size_t>(items.data() - s.data());
    std::size_t start = prefix_src.rfind(".join", match_start);
    start = start >= 2 ? start - 2 : 0;
    out.append(s, last, start - last);
    out += "'" + folded + "'";
    last = end;
  }
  out.append(s, last, std::string::npos);
  // __import__('os') is os, and getattr(os, 'system') is os.system: spelled so that the
  // module and call names appear as rules expect them.
  static const re2::RE2 import_call(R"re(__import__\(\s*['"](\w+)['"]\s*\))re");
  static const re2::RE2 getattr_call(R"re(getattr\(\s*([A-Za-z_][\w.]*)\s*,\s*['"](\w+)['"]\s*\))re");
  if (out.find("__import__") != std::string::npos) re2::RE2::GlobalReplace(&out, import_call, "\\1");
  if (out.find("getattr") != std::string::npos) re2::RE2::GlobalReplace(&out, getattr_call, "\\1.\\2");
  return out;
}

// Names bound exactly once, at the left margin, to a string or number literal
// (`HOST = "203.0.113.5"`). Any other binding of the name (`HOST += x`, an indented
// `HOST = ...`) drops it: then its value depends on the path taken.
std::unordered_map<std::string, std::string> module_constants(std::string_view j) {
  static const re2::RE2 literal(R"re((?m)^([A-Za-z_]\w*)[ \t]*=[ \t]*([rbu]?"[^"\\\n]{0,256}"|[rbu]?'[^'\\\n]{0,256}'|\d{1,10})[ \t]*(?:#[^\n]*)?$)re");
  static const re2::RE2 binding(R"re((?m)^[ \t]*([A-Za-z_]\w*)[ \t]*(?:[-+*/%|&^@]|//|\*\*|>>|<<)?=[^=])re");
  std::unordered_map<std::string, std::string> out;
  std::unordered_map<std::string, int> bindings;
  re2::StringPiece in(j.data(), j.size());
  std::string name, value;
  while (re2::RE2::FindAndConsume(&in, binding, &name)) ++bindings[name];
  in = re2::StringPiece(j.data(), j.size());
  while (out.size() < 64 && re2::RE2::FindAndConsume(&in, literal, &name, &value)) {
    if (bindings[name] == 1) out.emplace(name, value);
  }
  return out;
}

// Replaces uses of module constants by their literal, so `s.connect((HOST, PORT))` and
// `open(KEY)` read like the literal calls. Strings and comments are copied as they are;
// attributes (`x.HOST`) and keyword arguments (`f(HOST=1)`) are not uses.
std::string bind_constants(std::string_view j) {
  if (j.find('=') == std::string_view::npos) return std::string(j);
  const auto constants = module_constants(j);
  if (constants.empty()) return std::string(j);
  std::string out;
  out.reserve(j.size() + 64);
  std::size_t i = 0;
  while (i < j.size()) {
    const char c = j[i];
    if (c == '#') {
      const std::size_t e = std::min(j.find('\n', i), j.size());
      out.append(j, i, e - i);
      i = e;
    } else if (c == '"' || c == '\'') {
      const std::string_view three = c == '"' ? std::string_view(R"(""")") : std::string_view("'''");
      const bool triple = j.substr(i, 3) == three;
      const std::size_t q = triple ? 3 : 1;
      std::size_t e = i + q;
      while (e < j.size()) {
        if (j[e] == '\\') {
          e += 2;
        } else if (triple ? j.substr(e, 3) == three : (j[e] == c || j[e] == '\n')) {
          e += j[e] == '\n' ? 0 : q;
          break;
        } else {
          ++e;
        }
      }
      e = std::min(e, j.size());
      out.append(j, i, e - i);
      i = std::max(e, i + 1);
    } else if (is_ident_start(c) && (i == 0 || !is_ident(j[i - 1]))) {
      std::size_t e = i;
      while (e < j.size() && is_ident(j[e])) ++e;
      const auto it = constants.find(std::string(j.substr(i, e - i)));
      std::size_t before = i;
      while (before > 0 && (j[before - 1] == ' ' || j[before - 1] == '\t')) --before;
      std::size_t after = e;
      while (after < j.size() && (j[after] == ' ' || j[after] == '\t')) ++after;
      const bool attribute = before > 0 && j[before - 1] == '.';
      const bool bound_here = after < j.size() && j[after] == '=' && (after + 1 >= j.size() || j[after + 1] != '=');
      if (it != constants.end() && !attribute && !bound_here) {
        out += it->second;
      } else {
        out.append(j, i, e - i);
      }
      i = e;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace

bool looks_like_python(std::string_view text) {
  static const re2::RE2 py(R"re((?m)^(?:import [\w.]+|from [\w.]+ import |def \w+\(|class \w+[(:]|if __name__ ==))re");
  static const re2::RE2 sh(R"re((?m)^\s*(?:fi|done|esac|then)\s*$|\$\(|^\s*(?:echo|sudo|export|cd|apt-get|curl|wget) )re");
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), py) &&
         !re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), sh);
}

PythonView read_python(std::string_view text) {
  PythonView v;
  v.joined = bind_constants(fold_literals(text));
  const std::string_view j = v.joined;

  static const re2::RE2 imp(R"re((?:^|[;\n])\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+(?:\s*,\s*[\w.]+)*)))re");
  re2::StringPiece in(j.data(), j.size());
  std::string from_mod, import_list;
  while (re2::RE2::FindAndConsume(&in, imp, &from_mod, &import_list)) {
    if (!from_mod.empty()) v.imports.push_back(from_mod);
    std::string cur;
    for (char c : import_list + ",") {
      if (c == ',') {
        if (!cur.empty()) v.imports.push_back(cur);
        cur.clear();
      } else if (c != ' ') {
        cur.push_back(c);
      }
    }
  }

  // String and list arguments handed to a shell or exec.
  static const re2::RE2 call(
      R"re((?:os\.system|os\.popen|os\.exec\w*|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|commands\.getoutput|pty\.spawn)\(\s*(?:[rbfu]?"([^"\n]*)"|[rbfu]?'([^'\n]*)'|\[([^\]]*)\]))re");
  in = re2::StringPiece(j.data(), j.size());
  std::string dq, sq, list;
  while (re2::RE2::FindAndConsume(&in, call, &dq, &sq, &list)) {
    std::string cmd = !dq.empty() ? dq : sq;
    if (!list.empty()) {
      static const re2::RE2 item(R"re(['"]([^'"]*)['"])re");
      re2::StringPiece li(list);
      std::string it;
      while (re2::RE2::FindAndConsume(&li, item, &it)) {
        if (!cmd.empty()) cmd += ' ';
        // `["bash", "-c", "payload"]`: quote the payload so it stays one word
        cmd += it.find(' ') != std::string::npos ? "'" + it + "'" : it;
      }
    }
    if (!cmd.empty()) v.shell_commands.push_back({cmd, off(j, in)});
  }

  static const re2::RE2 rev(R"re([rbu]?(?:"([^"\n]{4,})"|'([^'\n]{4,})')\s*\[\s*::\s*-1\s*\])re");
  in = re2::StringPiece(j.data(), j.size());
  while (re2::RE2::FindAndConsume(&in, rev, &dq, &sq)) {
    std::string s = !dq.empty() ? dq : sq;
    std::reverse(s.begin(), s.end());
    v.reversed.push_back({s, off(j, in)});
  }

  // codecs.decode/encode with the rot13 codec (its own inverse): `codecs.decode('phey …', 'rot13')`.
  static const re2::RE2 rot(
      R"re(codecs\.(?:decode|encode)\(\s*[rbu]?(?:"([^"\n]{4,})"|'([^'\n]{4,})')\s*,\s*(?:encoding\s*=\s*)?['"]rot[_-]?13['"])re");
  in = re2::StringPiece(j.data(), j.size());
  while (re2::RE2::FindAndConsume(&in, rot, &dq, &sq)) v.rot13.push_back({rot13(!dq.empty() ? dq : sq), off(j, in)});

  static const re2::RE2 open_w(R"re(open\(\s*[rbfu]?['"]([^'"\n]+)['"]\s*,\s*[rbfu]?['"]([wax])[bt+]*['"])re");
  in = re2::StringPiece(j.data(), j.size());
  std::string path, mode;
  while (re2::RE2::FindAndConsume(&in, open_w, &path, &mode)) {
    v.writes.push_back({path, mode == "a" ? "append" : (mode == "x" ? "create" : "write"), off(j, in)});
  }
  return v;
}

}  // namespace nonaxis::ciso::detail
