#include "dockerfile_source.hpp"

#include "identifier.hpp"

#include <re2/re2.h>

#include <cctype>

namespace nonaxis::ciso::detail {
namespace {

bool iequals_prefix(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(line[i])) != word[i]) return false;
  }
  return line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t';
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The delimiter of the first here-document a RUN line opens (`<<EOF`, `<<-'EOF'`), or "".
std::string heredoc_delimiter(std::string_view line) {
  const std::size_t at = line.find("<<");
  if (at == std::string_view::npos) return {};
  std::size_t i = at + 2;
  if (i < line.size() && line[i] == '-') ++i;
  if (i < line.size() && (line[i] == '\'' || line[i] == '"')) ++i;
  std::string d;
  while (i < line.size() && is_ident(line[i])) d.push_back(line[i++]);
  return d;
}

}  // namespace

bool is_dockerfile_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto starts = [&](std::string_view p) { return base.substr(0, p.size()) == p; };
  const bool suffix = base.size() > 11 && base.substr(base.size() - 11) == ".dockerfile";
  return starts("Dockerfile") || starts("Containerfile") || suffix;
}

bool looks_like_dockerfile(std::string_view text) {
  // Every layer of every request comes through here: a plain search rules most out first.
  if (text.find("RUN") == std::string_view::npos && text.find("run") == std::string_view::npos) return false;
  static const re2::RE2 from(R"re((?mi)^FROM[ \t]+\S)re");
  static const re2::RE2 run(R"re((?mi)^RUN[ \t])re");
  const re2::StringPiece t(text.data(), text.size());
  return re2::RE2::PartialMatch(t, from) && re2::RE2::PartialMatch(t, run);
}

std::string dockerfile_run_script(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_run = false;       // the previous line ended in `\` inside a RUN
  std::string heredoc;       // delimiter of an open here-document, if any
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    const bool last = nl == std::string_view::npos;
    if (last) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    std::string kept(line.size(), ' ');
    if (!heredoc.empty()) {
      kept = std::string(line);
      if (trim_end(line) == heredoc) heredoc.clear();
    } else {
      std::size_t lead = 0;
      while (lead < line.size() && (line[lead] == ' ' || line[lead] == '\t')) ++lead;
      const std::string_view body = line.substr(lead);
      std::size_t from = std::string_view::npos;  // where the shell text starts
      if (in_run) {
        from = 0;
      } else if (iequals_prefix(body, "RUN")) {
        std::size_t k = lead + 3;
        // Flags such as --mount=type=cache,target=/root/.cache and --network=none.
        for (;;) {
          while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
          if (line.compare(k, 2, "--") != 0) break;
          while (k < line.size() && line[k] != ' ' && line[k] != '\t') ++k;
        }
        if (k < line.size() && line[k] != '[') from = k;
      }
      if (from != std::string_view::npos) {
        kept.replace(from, line.size() - from, line.substr(from));
        const std::string_view t = trim_end(line);
        in_run = !t.empty() && t.back() == '\\';
        heredoc = heredoc_delimiter(line.substr(from));
      } else {
        in_run = false;
      }
    }
    out += kept;
    if (last) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

}  // namespace nonaxis::ciso::detail
