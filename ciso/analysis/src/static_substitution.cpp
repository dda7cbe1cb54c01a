#include "static_substitution.hpp"

#include <algorithm>

#include "decoders.hpp"
#include "shell_command.hpp"

namespace nonaxis::ciso::detail {
namespace {

constexpr std::size_t kMaxOutput = 4096;

bool starts_with_word(std::string_view s, std::string_view w) {
  return s.size() > w.size() && s.compare(0, w.size(), w) == 0 && (s[w.size()] == ' ' || s[w.size()] == '\t');
}

// What `echo` or `printf` prints, when that is all in its words.
std::optional<std::string> printed(const Command& c) {
  if (c.words.empty() || !c.redirects.empty()) return std::nullopt;
  for (const Word& w : c.words) {
    if (w.dynamic) return std::nullopt;
  }
  const std::string& name = c.words[0].text;
  std::size_t i = 1;
  std::string out;
  if (name == "echo") {
    bool newline = true, escapes = false;
    for (; i < c.words.size() && c.words[i].text.size() > 1 && c.words[i].text[0] == '-' &&
           c.words[i].text.find_first_not_of("neE", 1) == std::string::npos;
         ++i) {
      newline = newline && c.words[i].text.find('n') == std::string::npos;
      escapes = escapes || c.words[i].text.find('e') != std::string::npos;
    }
    for (std::size_t k = i; k < c.words.size(); ++k) {
      if (k > i) out += ' ';
      out += c.words[k].text;
    }
    if (escapes) out = decode_ansi_c(out, nullptr);
    if (newline) out += '\n';
    return out;
  }
  if (name == "printf" && c.words.size() >= 2) {
    const std::string& fmt = c.words[1].text;
    if (fmt == "%s" || fmt == "%s\\n") {
      for (std::size_t k = 2; k < c.words.size(); ++k) out += c.words[k].text;
      return out;
    }
    if (fmt.find('%') == std::string::npos && c.words.size() == 2) return decode_ansi_c(fmt, nullptr);
  }
  return std::nullopt;
}

// `text` passed through one more pure filter, or nothing when the command is not one.
std::optional<std::string> filtered(const Command& c, const std::string& text) {
  const EffectiveCommand ec = effective_command(c);
  const auto& a = ec.argv;
  if (a.empty()) return std::nullopt;  // a stage of redirections only
  auto has = [&](std::string_view f) { return std::find(a.begin() + 1, a.end(), f) != a.end(); };
  if (ec.name == "base64" && (has("-d") || has("--decode") || has("-D"))) {
    std::string t = text;
    t.erase(std::remove(t.begin(), t.end(), '\n'), t.end());
    std::string d = decode_base64(t);
    if (d.empty()) return std::nullopt;
    return d;
  }
  bool reverse = false, plain = false;
  for (std::size_t k = 1; k < a.size(); ++k) {
    if (a[k].size() < 2 || a[k][0] != '-') continue;
    reverse = reverse || a[k].find('r') != std::string::npos;
    plain = plain || a[k].find('p') != std::string::npos;
  }
  if (ec.name == "xxd" && reverse && plain) {
    std::string d = decode_hex(text);
    if (d.empty()) return std::nullopt;
    return d;
  }
  if (ec.name == "rev" && a.size() == 1) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      const bool has_nl = nl != std::string::npos;
      if (!has_nl) nl = text.size();
      std::string line = text.substr(start, nl - start);
      std::reverse(line.begin(), line.end());
      out += line;
      if (has_nl) out += '\n';
      start = nl + 1;
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> static_substitution_output(std::string_view inner, const VarMap& vars) {
  // parse_shell below evaluates substitutions nested in `inner` again: bound the depth.
  thread_local int depth = 0;
  if (depth >= 2) return std::nullopt;
  struct Depth {
    Depth() { ++depth; }
    ~Depth() { --depth; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
  } guard;
  std::size_t b = 0;
  while (b < inner.size() && (inner[b] == ' ' || inner[b] == '\t' || inner[b] == '\n')) ++b;
  inner.remove_prefix(b);
  if (inner.empty()) return std::string();
  // Only echo/printf pipelines qualify; anything else is not parsed a second time here.
  if (!starts_with_word(inner, "echo") && !starts_with_word(inner, "printf")) return std::nullopt;
  if (inner.size() > kMaxOutput) return std::nullopt;
  VarMap scratch = vars;  // the parse may assign; the script's own variables stay as they are
  const ParsedShell p = parse_shell(inner, scratch);
  if (p.commands.empty() || p.commands.size() > 4 || !p.substitutions.empty()) return std::nullopt;
  for (const Command& c : p.commands) {
    if (c.pipeline != p.commands.front().pipeline || !c.assignments.empty()) return std::nullopt;
  }
  std::optional<std::string> out = printed(p.commands.front());
  for (std::size_t k = 1; out && k < p.commands.size(); ++k) out = filtered(p.commands[k], *out);
  if (!out || out->size() > kMaxOutput) return std::nullopt;
  while (!out->empty() && out->back() == '\n') out->pop_back();
  // Text only: a word is never binary, and short words (`cat`) count too.
  const bool text = std::all_of(out->begin(), out->end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
  });
  if (!text) return std::nullopt;
  return out;
}

}  // namespace nonaxis::ciso::detail
