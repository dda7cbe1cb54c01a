#include "scanner.hpp"

#include <algorithm>
#include <cctype>
#include <functional>

#include "assessment_builder.hpp"
#include "decoders.hpp"
#include "filesystem_extractor.hpp"
#include "network_extractor.hpp"
#include "python_source.hpp"
#include "shell_command.hpp"

namespace nonaxis::ciso::detail {
namespace {

std::string shorten(std::string_view s, std::size_t max = 120) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (s.size() > max) out += "...";
  return out;
}

// The line around `pos`, for excerpts of whole-text matches.
std::string line_around(std::string_view text, std::size_t pos) {
  const std::size_t b = text.rfind('\n', pos);
  const std::size_t start = b == std::string_view::npos ? 0 : b + 1;
  const std::size_t e = text.find('\n', pos);
  const std::size_t from = std::max(start, pos > 40 ? pos - 40 : 0);
  return shorten(text.substr(from, (e == std::string_view::npos ? text.size() : e) - from));
}

std::string join_from(const std::vector<std::string>& a, std::size_t from) {
  std::string s;
  for (std::size_t i = from; i < a.size(); ++i) {
    if (!s.empty()) s += ' ';
    s += a[i];
  }
  return s;
}

// The script argument of `sh -c SCRIPT`, `bash -lc SCRIPT`, `su -c SCRIPT user`.
const std::string* dash_c_arg(const std::vector<std::string>& a) {
  for (std::size_t i = 1; i + 1 < a.size(); ++i) {
    const std::string& s = a[i];
    if (s == "--command" || (s.size() > 1 && s[0] == '-' && s[1] != '-' && s.find('c') != std::string::npos)) {
      return &a[i + 1];
    }
    if (s.empty() || s[0] != '-') break;
  }
  return nullptr;
}

// Text an echo/printf command prints (printf interprets escapes like $'..').
std::string printed_text(const EffectiveCommand& ec) {
  std::size_t i = 1;
  bool escapes = ec.name == "printf";
  while (i < ec.argv.size() && ec.argv[i].size() > 1 && ec.argv[i][0] == '-' && ec.name == "echo") {
    if (ec.argv[i].find('e') != std::string::npos) escapes = true;
    ++i;
  }
  std::string s = join_from(ec.argv, i);
  if (escapes) s = decode_ansi_c(s, nullptr);
  return s;
}

bool executes_stdin(const EffectiveCommand& ec) {
  if (is_shell_name(ec.name) || ec.name == "su") return dash_c_arg(ec.argv) == nullptr;
  if (is_python_name(ec.name) || ec.name == "perl" || ec.name == "ruby" || ec.name == "node" || ec.name == "php") {
    return ec.argv.size() == 1 || ec.argv[1] == "-";
  }
  return false;
}

}  // namespace

Scanner::Frame Scanner::Frame::child(std::size_t off, bool child_fixed, std::string what) const {
  Frame c;
  c.base = at(off);
  c.fixed = fixed || child_fixed;
  c.depth = depth + 1;
  c.layer = layer.empty() ? std::move(what) : layer + " > " + what;
  return c;
}

void Scanner::charge(std::size_t bytes, const Frame& f) {
  scanned_ += bytes;
  ++layers_;
  if (f.depth > limits_.max_depth) throw BudgetExceeded("nesting deeper than " + std::to_string(limits_.max_depth) + " layers");
  if (scanned_ > limits_.max_scanned_bytes) throw BudgetExceeded("decoded and nested content exceeds the byte budget");
  if (layers_ > limits_.max_layers) throw BudgetExceeded("more than " + std::to_string(limits_.max_layers) + " nested layers");
}

std::size_t Scanner::strong_findings() const {
  return static_cast<std::size_t>(
      std::count_if(ev_.findings.begin(), ev_.findings.end(), [](const Finding& x) { return x.rule->weight >= 40; }));
}

void Scanner::match(Scope scope, std::string_view doc, std::size_t doc_off, bool exact, const Frame& f) {
  std::vector<RuleHit> hits;
  rules_.match(scope, doc, hits);
  for (const RuleHit& h : hits) {
    Finding x;
    x.rule = h.rule;
    x.offset = exact ? f.at(doc_off + h.offset) : f.at(doc_off);
    x.in_context = scope == Scope::Context;
    x.layer = f.layer;
    x.excerpt = exact ? line_around(doc, h.offset) : shorten(doc);
    ev_.findings.push_back(std::move(x));
  }
}

void Scanner::fact(const std::string& text, std::size_t off, const Frame& f) { match(Scope::Fact, text, off, false, f); }

void Scanner::scan_content(std::string_view content, bool is_command) {
  Frame top;
  if (is_command) {
    ev_.language = "shell";
    scan_shell(content, top, {});
    return;
  }
  const std::string_view first_line = content.substr(0, content.find('\n'));
  if (first_line.rfind("#!", 0) == 0) {
    if (first_line.find("python") != std::string_view::npos) {
      ev_.language = "python";
      scan_python(content, top);
      return;
    }
    for (const char* other : {"perl", "ruby", "node", "php", "lua"}) {
      if (first_line.find(other) != std::string_view::npos) {
        ev_.language = other;
        charge(content.size(), top);
        scan_text(content, top);
        return;
      }
    }
    ev_.language = "shell";
    scan_shell(content, top, {});
    return;
  }
  scan_layer(content, top);
}

void Scanner::scan_context(std::string_view context) {
  Frame f;
  f.layer = "context";
  match(Scope::Context, context, 0, true, f);
}

void Scanner::flag_undocumented(const std::vector<std::string>& declared) {
  Frame top;
  std::set<std::string> seen;
  const std::vector<Connection> conns = ev_.connections;
  for (const Connection& c : conns) {
    if (host_declared(c.host, c.port, declared) || !seen.insert(c.host).second) continue;
    fact("undocumented-host " + c.host, c.offset, top);
  }
}

void Scanner::scan_layer(std::string_view text, const Frame& f) {
  if (looks_like_python(text)) {
    if (ev_.language.empty()) ev_.language = "python";
    scan_python(text, f);
  } else {
    if (ev_.language.empty()) ev_.language = "shell";
    scan_shell(text, f, {});
  }
}

void Scanner::scan_text(std::string_view text, const Frame& f) {
  match(Scope::Text, text, 0, true, f);
  connections_from_text(text, f.base, f.fixed, ev_.connections);
  decode_blobs(text, f);
}

void Scanner::decode_blobs(std::string_view text, const Frame& f) {
  for (DecodedBlob& b : find_encoded_blobs(text, limits_.max_blobs_per_layer, limits_.max_scanned_bytes)) {
    if (!decoded_seen_.insert(std::hash<std::string>{}(b.text)).second) continue;
    ++ev_.decoded_layers;
    const std::size_t before = strong_findings();
    scan_layer(b.text, f.child(b.offset, true, "decoded " + b.kind));
    if (strong_findings() > before) fact("decoded-payload " + b.kind + " hides suspicious content", b.offset, f);
    ev_.layer_notes.push_back(b.kind + " blob (" + std::to_string(b.text.size()) + " bytes) decoded and analysed");
  }
}

void Scanner::scan_python(std::string_view text, const Frame& f) {
  charge(text.size(), f);
  const PythonView v = read_python(text);
  scan_text(text, f);
  match(Scope::Python, v.joined, 0, v.joined.size() == text.size(), f);
  for (const Embedded& e : v.shell_commands) scan_shell(e.text, f.child(e.offset, true, "python shell call"), {});
  for (const Embedded& e : v.reversed) scan_layer(e.text, f.child(e.offset, true, "reversed string"));
  for (const FsWrite& w : v.writes) ev_.writes.push_back({w.path, w.operation, f.at(w.offset)});
}

void Scanner::scan_shell(std::string_view text, const Frame& f, VarMap vars) {
  charge(text.size(), f);
  scan_text(text, f);
  const ParsedShell p = parse_shell(text, vars);
  ev_.commands += p.commands.size();
  if (p.ifs_expansions > 0) fact("ifs-word-splitting used to hide spaces", 0, f);
  if (p.ansi_c_encoded >= 3) fact("ansi-c-escapes spell " + std::to_string(p.ansi_c_encoded) + " characters", 0, f);

  VarMap running = vars;
  for (std::size_t i = 0; i < p.commands.size(); ++i) scan_command(text, p.commands[i], p, i, f, running);

  // Pipelines as a whole: what feeds into what.
  std::size_t i = 0;
  while (i < p.commands.size()) {
    std::size_t j = i;
    std::string doc;
    while (j < p.commands.size() && p.commands[j].pipeline == p.commands[i].pipeline) {
      const EffectiveCommand ec = effective_command(p.commands[j]);
      if (!doc.empty()) doc += " | ";
      doc += ec.rendered;
      ++j;
    }
    if (j - i > 1) match(Scope::Pipeline, doc, p.commands[i].offset, false, f);
    i = j;
  }

  for (const Embedded& s : p.substitutions) {
    // Substitution bodies are part of `text`, whose Text rules already ran: parse commands only.
    charge(s.text.size(), f);
    VarMap sub_vars = running;
    const ParsedShell sp = parse_shell(s.text, sub_vars);
    const Frame sf = f.child(s.offset, false, "command substitution");
    ev_.commands += sp.commands.size();
    for (std::size_t k = 0; k < sp.commands.size(); ++k) scan_command(s.text, sp.commands[k], sp, k, sf, sub_vars);
    for (const Embedded& inner : sp.substitutions) scan_shell(inner.text, sf.child(inner.offset, false, "command substitution"), sub_vars);
  }
}

void Scanner::scan_command(std::string_view text, const Command& c, const ParsedShell& p, std::size_t index,
                           const Frame& f, VarMap& vars) {
  const EffectiveCommand ec = effective_command(c);
  if (ec.rendered.empty()) return;
  const std::size_t off = f.at(c.offset);
  match(Scope::Command, ec.rendered, c.offset, false, f);
  if (ec.argv.empty()) return;
  match(Scope::Argv0, ec.argv0_doc, c.offset, false, f);

  if (!ec.elevation.empty()) ev_.permissions.insert("root privileges via " + ec.elevation);
  const std::string& n = ec.name;
  const auto& a = ec.argv;
  if (n == "su" || n == "runuser" || n == "sudo") ev_.permissions.insert("switch user via " + n);
  if (n == "setcap" && a.size() > 1) ev_.permissions.insert("file capabilities " + a[1]);
  if (n == "chmod" && a.size() > 1 && (a[1].find('s') != std::string::npos ||
                                       (a[1].size() == 4 && (a[1][0] == '2' || a[1][0] == '4' || a[1][0] == '6')))) {
    ev_.permissions.insert("setuid/setgid bit (chmod " + a[1] + ")");
  }
  if (ec.rendered.find("docker.sock") != std::string::npos) ev_.permissions.insert("Docker daemon socket (root-equivalent)");
  if (n == "docker" && ec.rendered.find("--privileged") != std::string::npos) ev_.permissions.insert("privileged container");

  connections_from_command(ec, off, ev_.connections);
  writes_from_command(ec, c.redirects, off, ev_.writes);

  // Split-and-joined program names: `$a$b`, `c${x}rl`.
  if (!c.words.empty() && c.words[0].from_variables) {
    const std::size_t w0 = c.words[0].offset;
    std::size_t e = w0;
    while (e < text.size() && text[e] != ' ' && text[e] != '\t' && text[e] != '\n' && text[e] != ';') ++e;
    const std::string_view raw = text.substr(std::min(w0, text.size()), e - std::min(w0, text.size()));
    // A single plain reference ($PY, ${PY}) is ordinary; anything more was assembled.
    std::size_t k = 0;
    if (k < raw.size() && raw[k] == '$') ++k;
    const bool braced = k < raw.size() && raw[k] == '{';
    if (braced) ++k;
    while (k < raw.size() && (std::isalnum(static_cast<unsigned char>(raw[k])) != 0 || raw[k] == '_')) ++k;
    if (braced && k < raw.size() && raw[k] == '}') ++k;
    const bool assembled = raw.empty() || raw[0] != '$' || k != raw.size();
    if (assembled) fact("program-name-assembled-from-variables " + n, c.offset, f);
  }

  // Downloaded files that are later made executable or run.
  for (const std::string& d : downloaded_files(ec)) downloaded_.insert(basename_of(d));
  auto downloaded = [&](const std::string& s) { return !s.empty() && downloaded_.count(basename_of(s)) != 0; };
  bool runs_download = downloaded(a[0]) && a[0].find('/') != std::string::npos;
  if ((is_shell_name(n) || is_python_name(n) || n == "source" || n == "." || n == "perl") && a.size() > 1) {
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (!a[k].empty() && a[k][0] == '-') continue;
      runs_download = runs_download || downloaded(a[k]);
      break;
    }
  }
  if (n == "chmod" && a.size() > 2 && (a[1].find('x') != std::string::npos || a[1].find('7') != std::string::npos ||
                                       a[1].find('5') != std::string::npos)) {
    for (std::size_t k = 2; k < a.size(); ++k) runs_download = runs_download || downloaded(a[k]);
  }
  if (runs_download) fact("downloaded-file-executed " + a.back(), c.offset, f);

  // Code that runs code: follow it into a new layer.
  if (is_shell_name(n) || n == "su" || n == "runuser") {
    if (const std::string* script = dash_c_arg(a)) scan_shell(*script, f.child(c.offset, true, n + " -c"), vars);
  } else if (n == "eval" && a.size() > 1) {
    scan_shell(join_from(a, 1), f.child(c.offset, true, "eval"), vars);
  } else if (is_python_name(n)) {
    for (std::size_t k = 1; k + 1 < a.size(); ++k) {
      if (a[k] == "-c") scan_python(a[k + 1], f.child(c.offset, true, "python -c"));
    }
  } else if (n == "find") {
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (a[k] != "-exec" && a[k] != "-execdir" && a[k] != "-ok" && a[k] != "-okdir") continue;
      Command sub;
      sub.offset = c.offset;
      std::size_t e = k + 1;
      while (e < a.size() && a[e] != ";" && a[e] != "+") {
        Word w;
        w.text = a[e++];
        sub.words.push_back(std::move(w));
      }
      if (!sub.words.empty()) {
        charge(0, f.child(0, false, "find -exec"));
        scan_command(text, sub, p, index, f, vars);
      }
      k = e;
    }
  } else if ((n == "ssh" || n == "sshpass") && a.size() > 2) {
    // ssh [opts] host command...: the remote command is shell text too.
    std::size_t k = 1;
    if (n == "sshpass") {
      while (k < a.size() && a[k] != "ssh") ++k;
      ++k;
    }
    while (k < a.size() && a[k].size() > 1 && a[k][0] == '-') {
      static const std::string with_arg = "bcDEeFIiJLlmOopQRSWw";
      k += (a[k].size() == 2 && with_arg.find(a[k][1]) != std::string::npos) ? 2u : 1u;
    }
    if (k + 1 < a.size()) scan_shell(join_from(a, k + 1), f.child(c.offset, true, "ssh remote command"), {});
  }

  for (const Redirect& r : c.redirects) {
    const bool heredoc = r.op.find("<<") != std::string::npos && r.op != "<<<";
    const bool herestring = r.op == "<<<";
    if (!heredoc && !herestring) continue;
    const std::string& body = heredoc ? r.body : r.target;
    if (body.empty()) continue;
    const Frame hf = f.child(r.offset, true, heredoc ? "here-doc" : "here-string");
    if (is_shell_name(n) || n == "su") {
      scan_shell(body, hf, vars);
    } else if (is_python_name(n)) {
      scan_python(body, hf);
    } else if (n == "rev") {
      std::string s = body;
      std::reverse(s.begin(), s.end());
      scan_layer(s, f.child(r.offset, true, "reversed string"));
    } else if (heredoc) {
      scan_layer(body, hf);  // content written by cat/tee: a script or config dropped on disk
    }
  }

  // echo/printf output that is executed (piped into an interpreter) or written to a file.
  if ((n == "echo" || n == "printf") && a.size() > 1) {
    const Command* next = index + 1 < p.commands.size() && p.commands[index + 1].piped_in &&
                                  p.commands[index + 1].pipeline == c.pipeline
                              ? &p.commands[index + 1]
                              : nullptr;
    const std::string printed = printed_text(ec);
    bool written = false;
    for (const Redirect& r : c.redirects) written = written || r.op.find('>') != std::string::npos;
    if (next != nullptr) {
      const EffectiveCommand nx = effective_command(*next);
      if (executes_stdin(nx)) {
        const Frame pf = f.child(c.offset, true, "piped into " + nx.name);
        if (is_python_name(nx.name)) {
          scan_python(printed, pf);
        } else {
          scan_shell(printed, pf, vars);
        }
      } else if (nx.name == "rev") {
        std::string s = printed;
        std::reverse(s.begin(), s.end());
        scan_layer(s, f.child(c.offset, true, "reversed string"));
      } else if (nx.name == "tee") {
        written = true;
      }
    }
    if (written && printed.find(' ') != std::string::npos) {
      scan_layer(printed, f.child(c.offset, true, "text written to a file"));
    }
  }
}

}  // namespace nonaxis::ciso::detail
