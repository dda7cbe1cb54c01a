#include "python_source.hpp"

#include <re2/re2.h>

#include <algorithm>

namespace nonaxis::ciso::detail {
namespace {

std::size_t off(std::string_view base, const re2::StringPiece& p) {
  return static_cast<std::size_t>(p.data() - base.data());
}

// Folds 'cu' + 'rl' into 'curl' so split-and-joined names are visible to rules.
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
  v.joined = fold_literals(text);
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

  static const re2::RE2 open_w(R"re(open\(\s*[rbfu]?['"]([^'"\n]+)['"]\s*,\s*[rbfu]?['"]([wax])[bt+]*['"])re");
  in = re2::StringPiece(j.data(), j.size());
  std::string path, mode;
  while (re2::RE2::FindAndConsume(&in, open_w, &path, &mode)) {
    v.writes.push_back({path, mode == "a" ? "append" : (mode == "x" ? "create" : "write"), off(j, in)});
  }
  return v;
}

}  // namespace nonaxis::ciso::detail
