#include "working_directory.hpp"

#include <algorithm>

namespace nonaxis::ciso::detail {
namespace {

// A single word that reads as a path relative to the current directory. Words with blanks,
// quotes or shell syntax are code or messages (`sh -c 'cd x; ...'`, `-m "fix"`), not paths;
// URLs, `host:path` and `NAME=value` are not relative paths either.
bool is_relative_operand(std::string_view w) {
  if (w.empty() || w[0] == '-' || w[0] == '/' || w[0] == '~' || w[0] == '$') return false;
  return std::all_of(w.begin(), w.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || ch == '.' || ch == '_' ||
           ch == '-' || ch == '/' || ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '!' || u >= 0x80;
  }) && !std::all_of(w.begin(), w.end(), [](char ch) { return ch >= '0' && ch <= '9'; });  // counts, modes, pids
}

// The operand with its path part resolved, or nothing. `f=@file` and `@file` (curl's
// upload forms) and dd's `if=`/`of=` carry a path after a prefix.
std::optional<std::string> resolve_operand(std::string_view dir, std::string_view w, bool is_dd) {
  std::size_t prefix = 0;
  if (const auto at = w.find('@'); at != std::string_view::npos && (at == 0 || w[at - 1] == '=')) {
    prefix = at + 1;
  } else if (is_dd && (w.rfind("if=", 0) == 0 || w.rfind("of=", 0) == 0)) {
    prefix = 3;
  }
  const std::string_view path = w.substr(prefix);
  if (!is_relative_operand(path)) return std::nullopt;
  return std::string(w.substr(0, prefix)) + join_path(dir, path);
}

bool is_file_redirect(const Redirect& r) {
  if (r.op.rfind("<<", 0) == 0) return false;  // here-doc or here-string: text, not a path
  const bool dup = r.op.find('&') != std::string::npos && r.op != "&>" && r.op != "&>>";
  return !dup && r.target != "-";
}

}  // namespace

std::string join_path(std::string_view dir, std::string_view rel) {
  std::string out(dir);
  while (!rel.empty()) {
    if (rel == ".") {
      rel = {};
    } else if (rel.rfind("./", 0) == 0) {
      rel.remove_prefix(2);
    } else if (rel == ".." || rel.rfind("../", 0) == 0) {
      rel.remove_prefix(std::min<std::size_t>(3, rel.size()));
      const auto slash = out.find_last_of('/');
      if (slash != std::string::npos && out.size() > 1) out.erase(slash == 0 ? 1 : slash);
    } else {
      break;
    }
  }
  if (rel.empty()) return out;
  if (out.empty() || out.back() != '/') out += '/';
  out += rel;
  return out;
}

void apply_directory_change(const Command& c, VarMap& vars) {
  if (c.words.empty()) return;
  const std::string& name = c.words[0].text;
  if (name == "popd") {
    vars.erase("PWD");
    return;
  }
  if (name != "cd" && name != "pushd") return;
  std::size_t i = 1;
  while (i < c.words.size() && c.words[i].text.size() > 1 && c.words[i].text[0] == '-') {
    if (c.words[i].text == "--") {
      ++i;
      break;
    }
    ++i;  // -P, -L, -e
  }
  if (i >= c.words.size()) {
    // Move-assigning a std::string, not a literal: GCC 12 at -O3 reports a false -Wrestrict
    // on assigning a char literal into a map's string.
    vars.insert_or_assign("PWD", std::string(1, '~'));  // plain `cd` goes home
    return;
  }
  const Word& target = c.words[i];
  const std::string& t = target.text;
  // $HOME is the one run-time value a path may start with and still be judged: rules read
  // `$HOME/...` like `~/...`.
  const bool home = t.rfind("$HOME", 0) == 0 || t.rfind("${HOME}", 0) == 0;
  const bool only_home = home && t.find_first_of("$`", 1) == std::string::npos;
  if ((target.dynamic && !only_home) || t.empty() || t == "-") {
    vars.erase("PWD");
  } else if (t[0] == '/' || t[0] == '~' || home) {
    vars["PWD"] = t;
  } else if (const auto it = vars.find("PWD"); it != vars.end()) {
    it->second = join_path(it->second, t);
  }
}

std::optional<Command> resolved_in_directory(const Command& c) {
  if (c.cwd.empty() || (c.words.empty() && c.redirects.empty())) return std::nullopt;
  Command r = c;
  bool changed = false;
  const bool is_dd = (!c.words.empty() && c.words[0].text == "dd") || (c.words.size() > 1 && c.words[1].text == "dd");
  for (std::size_t k = 1; k < r.words.size(); ++k) {
    if (auto v = resolve_operand(c.cwd, r.words[k].text, is_dd)) {
      r.words[k].text = std::move(*v);
      changed = true;
    }
  }
  for (Redirect& red : r.redirects) {
    if (!is_file_redirect(red) || !is_relative_operand(red.target)) continue;
    red.target = join_path(c.cwd, red.target);
    changed = true;
  }
  if (!changed) return std::nullopt;
  return r;
}

}  // namespace nonaxis::ciso::detail
