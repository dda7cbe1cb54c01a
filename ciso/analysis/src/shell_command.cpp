#include "shell_command.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <iterator>
#include <string_view>
#include <unordered_set>

namespace nonaxis::ciso::detail {
namespace {

bool is_assignment(const std::string& w) {
  const auto eq = w.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(eq),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

// Skips a wrapper's own options. `with_arg` lists options that consume the next word. A
// static list of views, not a std::set built per call: every wrapped command (sudo, env,
// timeout ...) used to allocate a tree of strings just to skip its options.
std::size_t skip_options(const std::vector<std::string>& a, std::size_t i, std::initializer_list<std::string_view> with_arg) {
  while (i < a.size() && a[i].size() > 1 && a[i][0] == '-') {
    if (a[i] == "--") return i + 1;
    const bool takes = std::find(with_arg.begin(), with_arg.end(), std::string_view(a[i])) != with_arg.end();
    i += takes ? 2 : 1;
  }
  return i;
}

// ` >PATH`. A file target with blanks is rendered as one redirect per piece. A loop list bound
// to the variable (`for d in /root /home/*; do echo K >> "$d/.ssh/authorized_keys"`) expands
// to blank-separated items, the last one carrying the suffix; as one target no path rule
// could read it. Here-docs and here-strings keep their text whole.
void append_redirect(std::string& rendered, const Redirect& r) {
  const bool file = r.op.find("<<") == std::string::npos;
  std::size_t from = 0;
  do {
    std::size_t to = file ? r.target.find_first_of(" \t", from) : std::string::npos;
    if (to == std::string::npos) to = r.target.size();
    if (to > from || from == 0) {
      if (!rendered.empty()) rendered += ' ';
      rendered += r.op;
      rendered.append(r.target, from, to - from);
    }
    from = to + 1;
  } while (from < r.target.size());
}

}  // namespace

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_shell_name(const std::string& n) {
  static const std::unordered_set<std::string_view> k = {"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "fish", "tcsh", "csh"};
  return k.count(n) != 0;
}

bool is_python_name(const std::string& n) {
  if (n.rfind("python", 0) != 0) return false;
  return std::all_of(n.begin() + 6, n.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.'; });
}

EffectiveCommand effective_command(std::vector<std::string> words, const std::vector<Redirect>& redirects) {
  EffectiveCommand ec;
  const std::vector<std::string>& a = words;
  std::size_t i = 0;
  // Bounded: each pass consumes at least one word.
  static const std::unordered_set<std::string_view> kWrappers = {
      "sudo", "doas", "pkexec", "run0", "env", "nohup", "time", "exec", "builtin", "setsid", "unbuffer", "torsocks",
      "proxychains", "proxychains4", "stdbuf", "chronic", "command", "nice", "ionice", "chrt", "timeout", "xargs", "busybox"};
  while (i < a.size()) {
    const std::string_view w = a[i];
    const std::string_view n = w.substr(w.find_last_of('/') == std::string_view::npos ? 0 : w.find_last_of('/') + 1);
    if (kWrappers.count(n) == 0) break;
    if (n == "sudo") {
      ec.elevation = "sudo";
      i = skip_options(a, i + 1, {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"});
    } else if (n == "doas" || n == "pkexec" || n == "run0") {
      ec.elevation = n;
      i = skip_options(a, i + 1, {"-u", "-C", "--user"});
    } else if (n == "env") {
      i = skip_options(a, i + 1, {"-u", "-C", "-S", "--unset", "--chdir"});
      while (i < a.size() && is_assignment(a[i])) ++i;
    } else if (n == "nohup" || n == "time" || n == "exec" || n == "builtin" || n == "setsid" || n == "unbuffer" ||
               n == "torsocks" || n == "proxychains" || n == "proxychains4" || n == "stdbuf" || n == "chronic") {
      i = skip_options(a, i + 1, {"-a", "-f", "-q"});
    } else if (n == "command" && i + 1 < a.size() && a[i + 1] != "-v" && a[i + 1] != "-V") {
      i = skip_options(a, i + 1, {});
    } else if (n == "nice" || n == "ionice" || n == "chrt") {
      i = skip_options(a, i + 1, {"-n", "-c", "-p", "--adjustment", "--class"});
      if (n == "chrt" && i < a.size() && std::isdigit(static_cast<unsigned char>(a[i][0])) != 0) ++i;
    } else if (n == "timeout") {
      i = skip_options(a, i + 1, {"-s", "-k", "--signal", "--kill-after"});
      if (i < a.size()) ++i;  // the duration
    } else if (n == "xargs") {
      i = skip_options(a, i + 1, {"-I", "-n", "-P", "-d", "-L", "-s", "-a", "-E", "-i"});
      if (i >= a.size()) break;  // bare xargs runs echo
    } else if (n == "busybox" && i + 1 < a.size()) {
      ++i;
    } else {
      break;
    }
  }
  if (i >= a.size()) i = 0;  // only wrappers (e.g. `sudo -i`): describe the wrapper itself
  ec.argv.assign(std::make_move_iterator(words.begin() + static_cast<std::ptrdiff_t>(i)), std::make_move_iterator(words.end()));
  if (ec.argv.empty()) return ec;
  ec.name = basename_of(ec.argv[0]);
  ec.rendered = ec.name;
  for (std::size_t k = 1; k < ec.argv.size(); ++k) {
    ec.rendered += ' ';
    ec.rendered += ec.argv[k];
  }
  for (const Redirect& r : redirects) append_redirect(ec.rendered, r);
  ec.argv0_doc = ec.elevation.empty() ? ec.argv[0] : ec.elevation + " " + ec.argv[0];
  return ec;
}

EffectiveCommand effective_command(const Command& c) {
  std::vector<std::string> words;
  words.reserve(c.words.size());
  for (const Word& w : c.words) words.push_back(w.text);
  const bool no_words = words.empty();
  EffectiveCommand ec = effective_command(std::move(words), c.redirects);
  if (no_words) {
    // Assignment-only commands (HISTFILE=/dev/null) and bare redirections (`> file`) still act.
    for (const auto& [name, value] : c.assignments) {
      if (!ec.rendered.empty()) ec.rendered += ' ';
      ec.rendered += name + "=" + value.value_or("");
    }
    for (const Redirect& r : c.redirects) append_redirect(ec.rendered, r);
  }
  return ec;
}

}  // namespace nonaxis::ciso::detail
