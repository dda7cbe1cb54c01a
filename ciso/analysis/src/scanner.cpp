#include "scanner.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>

#include "assessment_builder.hpp"
#include "decoders.hpp"
#include "dockerfile_source.hpp"
#include "filesystem_extractor.hpp"
#include "glob_paths.hpp"
#include "network_extractor.hpp"
#include "python_source.hpp"
#include "working_directory.hpp"

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

// `sh -c SCRIPT NAME ARG...` runs SCRIPT with $0 = NAME and $1... = ARGs: bind those the
// command spelled out, so `sh -c 'curl "$1" | sh' _ URL` reads as what it runs.
VarMap with_positional(const VarMap& vars, const std::vector<std::string>& a, const std::string* script) {
  VarMap out = vars;
  for (char d = '0'; d <= '9'; ++d) out.erase(std::string(1, d));
  std::size_t k = static_cast<std::size_t>(script - a.data()) + 1;
  for (char d = '0'; d <= '9' && k < a.size(); ++d, ++k) out[std::string(1, d)] = a[k];
  return out;
}

// What `{}` stands for in `find ROOT ... -exec CMD {} ;`: the files the name test picks under
// the first root, spelled as a glob (`/var/log/*`, `/home/u/*.kdbx`), so path rules read the
// command like the loop written out. Any other test (size, age, owner, permissions, -path,
// -regex) picks some files, not a glob of the root: `find / -size +100M -exec rm {} ;` is not
// `rm /*`, so `{}` stays as written and only the find rules judge it.
std::optional<std::string> find_target(const std::vector<std::string>& a) {
  static const std::set<std::string_view> neutral = {"-type", "-xtype", "-maxdepth", "-mindepth", "-xdev", "-mount",
                                                     "-depth", "-follow", "-L", "-H", "-P", "-print", "-print0",
                                                     "-name", "-iname", "-a", "-and"};
  std::string root;
  std::size_t k = 1;
  for (; k < a.size(); ++k) {
    const std::string& s = a[k];
    if (root.empty() && (s == "-H" || s == "-L" || s == "-P")) continue;  // options before the roots
    if (s.empty() || s[0] == '-' || s == "(" || s == "!") break;
    if (root.empty()) root = s;
  }
  if (root.empty()) root = ".";
  std::string name = "*";
  for (; k < a.size(); ++k) {
    const std::string& s = a[k];
    if (s == "-exec" || s == "-execdir" || s == "-ok" || s == "-okdir") break;
    if (!s.empty() && s[0] == '-' && neutral.count(s) == 0) return std::nullopt;
    if ((s == "-name" || s == "-iname") && k + 1 < a.size() && name == "*") name = a[k + 1];
  }
  return root.back() == '/' ? root + name : root + "/" + name;
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

// Where a command writes its standard output: a `>`/`>>` target, or tee's first file.
std::string written_path(const Command& c, const EffectiveCommand& ec) {
  for (const Redirect& r : c.redirects) {
    if (r.op.find('>') != std::string::npos && r.op.find('&') == std::string::npos) return r.target;
  }
  if (ec.name == "tee") {
    for (std::size_t k = 1; k < ec.argv.size(); ++k) {
      if (!ec.argv[k].empty() && ec.argv[k][0] != '-') return ec.argv[k];
    }
  }
  return {};
}

bool executes_stdin(const EffectiveCommand& ec) {
  if (is_shell_name(ec.name) || ec.name == "su") return dash_c_arg(ec.argv) == nullptr;
  ScriptLang lang;
  if (is_python_name(ec.name) || (script_lang_of(ec.name, lang) && lang != ScriptLang::Awk)) {
    return ec.argv.size() == 1 || ec.argv[1] == "-";
  }
  return false;
}

// `dpkg -i x.deb`, `rpm -Uvh x.rpm`, `apt install ./x.deb`: the operands are installed, so
// their maintainer scripts run. Listing or inspecting a package (`dpkg -c`, `rpm -qpl`) is not.
bool installs_package(const EffectiveCommand& ec) {
  const std::string& n = ec.name;
  const auto& a = ec.argv;
  if (a.size() < 3) return false;
  if (n == "dpkg" || n == "rpm") {
    const std::string& op = a[1];
    if (n == "dpkg" && op == "--install") return true;
    return op.size() > 1 && op[0] == '-' && op[1] != '-' && op.find_first_of(n == "dpkg" ? "i" : "iU") != std::string::npos;
  }
  return (n == "apt" || n == "apt-get" || n == "yum" || n == "dnf" || n == "zypper") &&
         std::find(a.begin(), a.end(), "install") != a.end();
}

bool has_wildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// See ResolvedReading. Nothing when none of it changes the command; most commands are
// returned without a copy.
std::optional<ResolvedReading> resolved_reading(const Command& c) {
  std::optional<Command> r;
  if (std::any_of(c.words.begin(), c.words.end(), [](const Word& w) { return w.alt.has_value(); })) {
    r = c;
    for (Word& w : r->words) {
      if (!w.alt) continue;
      w.text = std::move(*w.alt);
      w.alt.reset();
    }
  }
  if (std::optional<Command> d = resolved_in_directory(r ? *r : c)) r = std::move(d);
  const Command& base = r ? *r : c;
  std::vector<GlobResolution> globs;
  const bool wild = std::any_of(base.words.begin(), base.words.end(), [](const Word& w) { return has_wildcard(w.text); }) ||
                    std::any_of(base.redirects.begin(), base.redirects.end(),
                                [](const Redirect& x) { return has_wildcard(x.target); });
  if (wild) {
    Command g = base;
    globs = resolve_known_globs(g);
    if (!globs.empty()) r = std::move(g);
  }
  if (!r) return std::nullopt;
  EffectiveCommand ec = effective_command(*r);
  return ResolvedReading{std::move(*r), std::move(ec), std::move(globs)};
}

CommandForms command_forms(const ParsedShell& p) {
  CommandForms forms;
  forms.ecs.reserve(p.commands.size());
  forms.resolved.reserve(p.commands.size());
  for (const Command& c : p.commands) {
    forms.ecs.push_back(effective_command(c));
    forms.resolved.push_back(resolved_reading(c));
  }
  return forms;
}

}  // namespace

Scanner::Scanner(const RuleSet& rules, Evidence& ev, Limits limits) : rules_(rules), ev_(ev), limits_(limits) {
  frames_.emplace_back();  // the content as written
}

const Scanner::Frame& Scanner::child(const Frame& parent, std::size_t off, bool fixed, std::string what) {
  Frame c;
  c.id = frames_.size();
  c.base = parent.at(off);
  c.fixed = parent.fixed || fixed;
  c.depth = parent.depth + 1;
  c.layer = parent.layer.empty() ? std::move(what) : parent.layer + " > " + what;
  frames_.push_back(std::move(c));
  return frames_.back();
}

void Scanner::charge(std::size_t bytes, const Frame& f) {
  scanned_ += bytes;
  ++layers_;
  if (f.depth > limits_.max_depth) throw BudgetExceeded("nesting deeper than " + std::to_string(limits_.max_depth) + " layers");
  if (scanned_ > limits_.max_scanned_bytes) throw BudgetExceeded("decoded and nested content exceeds the byte budget");
  if (layers_ > limits_.max_layers) throw BudgetExceeded("more than " + std::to_string(limits_.max_layers) + " nested layers");
}

void Scanner::doc(Scope scope, std::string_view text, std::size_t off, bool exact, const Frame& f) {
  batch_.add(scope, text, {f.id, off, exact, seq_++});
}

void Scanner::fact(const std::string& text, std::size_t off, const Frame& f) { doc(Scope::Fact, text, off, false, f); }

void Scanner::collect(const MatchBatch& batch, const std::vector<BatchHit>& hits) {
  std::vector<const BatchHit*> ordered;
  ordered.reserve(hits.size());
  for (const BatchHit& h : hits) ordered.push_back(&h);
  // Findings in the order the documents were made (reading order), as a reader expects.
  std::sort(ordered.begin(), ordered.end(), [&](const BatchHit* x, const BatchHit* y) {
    const std::size_t sx = batch.origin(x->scope, x->doc).seq, sy = batch.origin(y->scope, y->doc).seq;
    return sx != sy ? sx < sy : x->rule < y->rule;
  });
  for (const BatchHit* h : ordered) {
    const DocOrigin& o = batch.origin(h->scope, h->doc);
    const Frame& f = frames_[o.frame];
    const std::string_view text = batch.text(h->scope, h->doc);
    Finding x;
    x.rule = h->rule;
    x.offset = o.exact ? f.at(o.offset + h->offset) : f.at(o.offset);
    x.in_context = h->scope == Scope::Context;
    x.layer = f.layer;
    x.excerpt = o.exact ? line_around(text, h->offset) : shorten(text);
    x.seq = o.seq;
    ev_.findings.push_back(std::move(x));
  }
}

void Scanner::finish() {
  collect(batch_, batch_.match(rules_));
  if (decoded_.empty()) return;
  // Second round: a decoded layer that held something strong is itself evidence of hiding.
  std::vector<std::size_t> strong;
  for (const Finding& x : ev_.findings) {
    if (x.rule->weight >= 40) strong.push_back(x.seq);
  }
  std::sort(strong.begin(), strong.end());
  MatchBatch facts;
  for (const DecodedCheck& d : decoded_) {
    auto it = std::lower_bound(strong.begin(), strong.end(), d.seq_begin);
    if (it == strong.end() || *it >= d.seq_end) continue;
    facts.add(Scope::Fact, "decoded-payload " + d.kind + " hides suspicious content", {d.frame, d.offset, false, d.seq_begin});
  }
  if (!facts.empty()) collect(facts, facts.match(rules_));
}

void Scanner::scan_content(std::string_view content, bool is_command) {
  const Frame& top = frames_.front();
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
    // "#!/usr/bin/env perl -w", "#!/usr/bin/ruby": the interpreter is the first word naming one.
    std::size_t i = 2;
    while (i < first_line.size()) {
      while (i < first_line.size() && (first_line[i] == ' ' || first_line[i] == '\t')) ++i;
      std::size_t e = i;
      while (e < first_line.size() && first_line[e] != ' ' && first_line[e] != '\t') ++e;
      ScriptLang lang;
      if (script_lang_of(basename_of(std::string(first_line.substr(i, e - i))), lang)) {
        ev_.language = to_string(lang);
        scan_script(lang, content, top);
        return;
      }
      i = e;
    }
    if (first_line.find("lua") != std::string_view::npos) {
      ev_.language = "lua";
      charge(content.size(), top);
      scan_text(content, top);
      return;
    }
    ev_.language = "shell";
    scan_shell(content, top, {});
    return;
  }
  scan_layer(content, top);
}

void Scanner::scan_context(std::string_view context) {
  const Frame& f = child(frames_.front(), 0, false, "context");
  doc(Scope::Context, context, 0, true, f);
}

void Scanner::flag_undocumented(const std::vector<std::string>& declared) {
  std::set<std::string> seen;
  const std::vector<Connection> conns = ev_.connections;
  for (const Connection& c : conns) {
    if (host_declared(c.host, c.port, declared) || !seen.insert(c.host).second) continue;
    fact("undocumented-host " + c.host, c.offset, frames_.front());
  }
}

void Scanner::scan_layer(std::string_view text, const Frame& f) {
  if (looks_like_dockerfile(text)) {
    if (ev_.language.empty()) ev_.language = "shell";
    scan_dockerfile(text, f);
  } else if (looks_like_python(text)) {
    if (ev_.language.empty()) ev_.language = "python";
    scan_python(text, f);
  } else {
    if (ev_.language.empty()) ev_.language = "shell";
    scan_shell(text, f, {});
  }
}

void Scanner::scan_written(std::string_view text, std::string_view path, const Frame& f) {
  const std::size_t dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (text.find("<?php") != std::string_view::npos || ext == "php" || ext == "phtml") {
    scan_script(ScriptLang::Php, text, f);
  } else if (ext == "pl" || ext == "pm" || ext == "cgi") {
    scan_script(ScriptLang::Perl, text, f);
  } else if (ext == "rb") {
    scan_script(ScriptLang::Ruby, text, f);
  } else if (ext == "js" || ext == "mjs" || ext == "cjs") {
    scan_script(ScriptLang::Node, text, f);
  } else if (ext == "py") {
    scan_python(text, f);
  } else if (is_dockerfile_name(path)) {
    scan_dockerfile(text, f);
  } else {
    scan_layer(text, f);
  }
}

void Scanner::scan_text(std::string_view text, const Frame& f, std::optional<std::string_view> destinations) {
  doc(Scope::Text, text, 0, true, f);
  // A folded view (Python constants bound) keeps offsets only if it kept the length.
  const std::string_view from = destinations.value_or(text);
  connections_from_text(from, f.base, f.fixed || from.size() != text.size(), ev_.connections);
  decode_blobs(text, f);
}

void Scanner::decode_blobs(std::string_view text, const Frame& f) {
  for (DecodedBlob& b : find_encoded_blobs(text, limits_.max_blobs_per_layer, limits_.max_scanned_bytes)) {
    if (!decoded_seen_.insert(std::hash<std::string>{}(b.text)).second) continue;
    ++ev_.decoded_layers;
    const std::size_t begin = seq_;
    scan_layer(b.text, child(f, b.offset, true, "decoded " + b.kind));
    decoded_.push_back({f.id, b.offset, b.kind, begin, seq_});
    ev_.layer_notes.push_back(b.kind + " blob (" + std::to_string(b.text.size()) + " bytes) decoded and analysed");
  }
}

void Scanner::scan_dockerfile(std::string_view text, const Frame& f) {
  scan_text(text, f);  // ADD/COPY URLs and ENV lines are not shell, but their text still counts
  scan_shell(dockerfile_run_script(text), f, {});
}

void Scanner::scan_python(std::string_view text, const Frame& f) {
  charge(text.size(), f);
  const PythonView v = read_python(text);
  // Destinations come from the folded view: `connect((HOST, PORT))` names its host only
  // after constants are bound.
  scan_text(text, f, v.joined);
  doc(Scope::Python, v.joined, 0, v.joined.size() == text.size(), f);
  for (const Embedded& e : v.shell_commands) scan_shell(e.text, child(f, e.offset, true, "python shell call"), {});
  for (const Embedded& e : v.reversed) scan_layer(e.text, child(f, e.offset, true, "reversed string"));
  for (const Embedded& e : v.rot13) scan_layer(e.text, child(f, e.offset, true, "rot13 string"));
  for (const FsWrite& w : v.writes) ev_.writes.push_back({w.path, w.operation, f.at(w.offset)});
}

void Scanner::scan_script(ScriptLang lang, std::string_view code, const Frame& f) {
  charge(code.size(), f);
  const std::string name = to_string(lang);
  doc(Scope::Text, code, 0, true, f);
  connections_from_text(code, f.base, f.fixed, ev_.connections);
  const ScriptView v = read_script(lang, code);
  for (const Connection& s : v.sockets) add_connection(ev_.connections, s.host, s.port, s.protocol, name + " socket", f.at(s.offset));
  if (v.opens_socket && (v.wires_streams || v.runs_shell)) fact("script-socket-wired-to-shell " + name, 0, f);
  if (v.evals_decoded) fact("script-evaluates-decoded-code " + name, 0, f);
  if (v.evals_download) fact("script-runs-downloaded-code " + name, 0, f);
  if (v.evals_request_input) fact("script-runs-request-input " + name, 0, f);
  for (const Embedded& e : v.shell_commands) scan_shell(e.text, child(f, e.offset, true, name + " shell call"), {});
  for (const Embedded& d : v.decoded) {
    if (!decoded_seen_.insert(std::hash<std::string>{}(d.text)).second) continue;
    ++ev_.decoded_layers;
    const std::size_t begin = seq_;
    // Decoded text is either more code of the same language or a shell command line.
    scan_script(lang, d.text, child(f, d.offset, true, name + " decoded string"));
    scan_shell(d.text, child(f, d.offset, true, name + " decoded string"), {});
    decoded_.push_back({f.id, d.offset, name + " decode call", begin, seq_});
    ev_.layer_notes.push_back(name + " decoded string (" + std::to_string(d.text.size()) + " bytes) analysed");
  }
  decode_blobs(code, f);
}

void Scanner::scan_shell(std::string_view text, const Frame& f, VarMap vars) {
  charge(text.size(), f);
  scan_text(text, f);
  const ParsedShell p = parse_shell(text, vars);
  ev_.commands += p.commands.size();
  if (p.ifs_expansions > 0) fact("ifs-word-splitting used to hide spaces", 0, f);
  if (p.ansi_c_encoded >= 3) fact("ansi-c-escapes spell " + std::to_string(p.ansi_c_encoded) + " characters", 0, f);

  const CommandForms forms = command_forms(p);
  VarMap running = vars;
  for (std::size_t i = 0; i < p.commands.size(); ++i) scan_command(text, p, forms, i, f, running);

  // Pipelines as a whole: what feeds into what; when a command reads differently resolved,
  // the pipeline also in that reading.
  std::size_t i = 0;
  std::string pipeline, resolved;
  while (i < p.commands.size()) {
    std::size_t j = i;
    pipeline.clear();
    resolved.clear();
    bool any_resolved = false;
    while (j < p.commands.size() && p.commands[j].pipeline == p.commands[i].pipeline) {
      if (!pipeline.empty()) pipeline += " | ";
      pipeline += forms.ecs[j].rendered;
      if (!resolved.empty()) resolved += " | ";
      resolved += forms.resolved[j] ? forms.resolved[j]->ec.rendered : forms.ecs[j].rendered;
      any_resolved = any_resolved || forms.resolved[j].has_value();
      ++j;
    }
    if (j - i > 1) doc(Scope::Pipeline, pipeline, p.commands[i].offset, false, f);
    if (j - i > 1 && any_resolved) doc(Scope::Pipeline, resolved, p.commands[i].offset, false, f);
    i = j;
  }

  for (const Embedded& s : p.substitutions) {
    // Substitution bodies are part of `text`, whose Text rules already ran: parse commands only.
    charge(s.text.size(), f);
    VarMap sub_vars = running;
    const ParsedShell sp = parse_shell(s.text, sub_vars);
    const Frame& sf = child(f, s.offset, false, "command substitution");
    ev_.commands += sp.commands.size();
    const CommandForms sforms = command_forms(sp);
    for (std::size_t k = 0; k < sp.commands.size(); ++k) scan_command(s.text, sp, sforms, k, sf, sub_vars);
    for (const Embedded& inner : sp.substitutions) {
      scan_shell(inner.text, child(sf, inner.offset, false, "command substitution"), sub_vars);
    }
  }
}

void Scanner::scan_command(std::string_view text, const ParsedShell& p, const CommandForms& forms, std::size_t index,
                           const Frame& f, VarMap& vars) {
  const Command& c = p.commands[index];
  const std::vector<EffectiveCommand>& ecs = forms.ecs;
  const EffectiveCommand& ec = ecs[index];
  if (ec.rendered.empty()) return;
  scan_command_words(text, c, ec, forms.resolved[index], f, vars);
  if (ec.argv.empty()) return;
  const std::string& n = ec.name;
  const auto& a = ec.argv;

  // echo/printf output that is executed (piped into an interpreter) or written to a file.
  if ((n == "echo" || n == "printf") && a.size() > 1) {
    const bool has_next = index + 1 < p.commands.size() && p.commands[index + 1].piped_in &&
                          p.commands[index + 1].pipeline == c.pipeline;
    const std::string printed = printed_text(ec);
    std::string target = written_path(c, ec);
    bool written = !target.empty();
    if (has_next) {
      const EffectiveCommand& nx = ecs[index + 1];
      ScriptLang lang;
      if (executes_stdin(nx)) {
        const Frame& pf = child(f, c.offset, true, "piped into " + nx.name);
        if (is_python_name(nx.name)) {
          scan_python(printed, pf);
        } else if (script_lang_of(nx.name, lang)) {
          scan_script(lang, printed, pf);
        } else {
          scan_shell(printed, pf, vars);
        }
      } else if (nx.name == "rev") {
        std::string s = printed;
        std::reverse(s.begin(), s.end());
        scan_layer(s, child(f, c.offset, true, "reversed string"));
      } else if (nx.name == "tee") {
        written = true;
        target = written_path(p.commands[index + 1], nx);
        // `echo V | sudo tee [-a] F` is `echo V >F` run as root: read it as that too, so the
        // redirect rules see one-word values (`echo 0 | tee /proc/sys/...`) as well.
        if (!target.empty()) {
          const bool append = std::find(nx.argv.begin(), nx.argv.end(), "-a") != nx.argv.end() ||
                              std::find(nx.argv.begin(), nx.argv.end(), "--append") != nx.argv.end();
          doc(Scope::Command, ec.rendered + (append ? " >>" : " >") + target, c.offset, false, f);
        }
      }
    }
    if (written && printed.find(' ') != std::string::npos) {
      scan_written(printed, target, child(f, c.offset, true, "text written to a file"));
    }
  }
}

void Scanner::scan_command_words(std::string_view text, const Command& c, const EffectiveCommand& ec,
                                 const std::optional<ResolvedReading>& resolved, const Frame& f, VarMap& vars) {
  const std::size_t off = f.at(c.offset);
  doc(Scope::Command, ec.rendered, c.offset, false, f);
  // After a cd, behind a glob or a static substitution: the command again as it really runs;
  // its writes and destinations are recorded from that reading.
  if (resolved) {
    for (const GlobResolution& g : resolved->globs) {
      if (glob_hides_name(g.word)) fact("path-spelled-as-glob " + g.word + " " + g.path, c.offset, f);
    }
    doc(Scope::Command, resolved->ec.rendered, c.offset, false, f);
  }
  const EffectiveCommand& real = resolved ? resolved->ec : ec;
  writes_from_command(real, resolved ? resolved->command.redirects : c.redirects, off, ev_.writes);
  if (ec.argv.empty()) return;
  doc(Scope::Argv0, ec.argv0_doc, c.offset, false, f);

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

  connections_from_command(real, off, ev_.connections);

  // Split-and-joined program names: `$a$b`, `c${x}rl`.
  if (!c.words.empty() && c.words[0].from_variables) {
    const std::size_t w0 = std::min(c.words[0].offset, text.size());
    std::size_t e = w0;
    while (e < text.size() && text[e] != ' ' && text[e] != '\t' && text[e] != '\n' && text[e] != ';') ++e;
    const std::string_view raw = text.substr(w0, e - w0);
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
  for (const std::string& d : downloaded_files(ec, c.redirects)) downloaded_.insert(basename_of(d));
  auto downloaded = [&](const std::string& s) { return !s.empty() && downloaded_.count(basename_of(s)) != 0; };
  bool runs_download = !downloaded_.empty() && downloaded(a[0]) && a[0].find('/') != std::string::npos;
  ScriptLang lang;
  const bool script_interpreter = script_lang_of(n, lang) && lang != ScriptLang::Awk;
  if (!downloaded_.empty() && (is_shell_name(n) || is_python_name(n) || n == "source" || n == "." || script_interpreter) &&
      a.size() > 1) {
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (!a[k].empty() && a[k][0] == '-') continue;
      runs_download = runs_download || downloaded(a[k]);
      break;
    }
  }
  if (!downloaded_.empty() && n == "chmod" && a.size() > 2 &&
      (a[1].find('x') != std::string::npos || a[1].find('7') != std::string::npos || a[1].find('5') != std::string::npos)) {
    for (std::size_t k = 2; k < a.size(); ++k) runs_download = runs_download || downloaded(a[k]);
  }
  // Installing a downloaded package runs its maintainer scripts as root.
  if (!downloaded_.empty() && installs_package(ec)) {
    for (std::size_t k = 2; k < a.size(); ++k) runs_download = runs_download || (!a[k].empty() && a[k][0] != '-' && downloaded(a[k]));
  }
  // Compile after delivery: a downloaded source file that is compiled makes its output a
  // downloaded program too (`gcc x.c -o x`, `./a.out`); `go run x.go` runs it at once.
  if (!downloaded_.empty() && (n == "gcc" || n == "cc" || n == "clang" || n == "g++" || n == "c++" || n == "clang++" ||
                               n == "tcc" || n == "rustc" || n == "go")) {
    bool compiles_download = false;
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (!a[k].empty() && a[k][0] == '-') continue;  // flags, including -o itself
      compiles_download = compiles_download || (downloaded(a[k]) && (k < 2 || a[k - 1] != "-o"));
    }
    if (compiles_download) {
      if (n == "go" && a.size() > 1 && a[1] == "run") {
        runs_download = true;
      } else {
        std::string out = n == "go" ? std::string() : std::string("a.out");
        for (std::size_t k = 1; k + 1 < a.size(); ++k) {
          if (a[k] == "-o") out = a[k + 1];
        }
        if (!out.empty()) downloaded_.insert(basename_of(out));
      }
    }
  }
  if (runs_download) fact("downloaded-file-executed " + a.back(), c.offset, f);

  follow_code(c, ec, f, vars);
}

// Code that runs code: follow it into a new layer.
void Scanner::follow_code(const Command& c, const EffectiveCommand& ec, const Frame& f, VarMap& vars) {
  const std::string& n = ec.name;
  const auto& a = ec.argv;
  ScriptLang lang;
  const bool script = script_lang_of(n, lang);
  if (is_shell_name(n) || n == "su" || n == "runuser") {
    if (const std::string* s = dash_c_arg(a)) {
      scan_shell(*s, child(f, c.offset, true, n + " -c"), is_shell_name(n) ? with_positional(vars, a, s) : vars);
    }
  } else if (n == "eval" && a.size() > 1) {
    scan_shell(join_from(a, 1), child(f, c.offset, true, "eval"), vars);
  } else if (is_python_name(n)) {
    for (std::size_t k = 1; k + 1 < a.size(); ++k) {
      if (a[k] == "-c") scan_python(a[k + 1], child(f, c.offset, true, "python -c"));
    }
  } else if (script) {
    for (const std::string& code : inline_code(lang, a)) scan_script(lang, code, child(f, c.offset, true, n + " inline code"));
  } else if (n == "find") {
    const std::optional<std::string> target = find_target(a);
    for (std::size_t k = 1; k < a.size(); ++k) {
      if (a[k] != "-exec" && a[k] != "-execdir" && a[k] != "-ok" && a[k] != "-okdir") continue;
      Command sub;
      sub.offset = c.offset;
      std::size_t e = k + 1;
      while (e < a.size() && a[e] != ";" && a[e] != "+") {
        Word w;
        w.text = a[e++];
        // -execdir runs in each file's directory with `{}` as `./name`: the same files.
        for (std::size_t at = 0; target && (at = w.text.find("{}", at)) != std::string::npos; at += target->size()) {
          w.text.replace(at, 2, *target);
        }
        sub.words.push_back(std::move(w));
      }
      if (!sub.words.empty()) {
        const Frame& xf = child(f, 0, false, "find -exec");
        charge(0, xf);
        const EffectiveCommand sec = effective_command(sub);
        if (!sec.rendered.empty()) scan_command_words("", sub, sec, resolved_reading(sub), f, vars);
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
    if (k + 1 < a.size()) scan_shell(join_from(a, k + 1), child(f, c.offset, true, "ssh remote command"), {});
  }

  for (const Redirect& r : c.redirects) {
    const bool heredoc = r.op.find("<<") != std::string::npos && r.op != "<<<";
    const bool herestring = r.op == "<<<";
    if (!heredoc && !herestring) continue;
    const std::string& body = heredoc ? r.body : r.target;
    if (body.empty()) continue;
    const Frame& hf = child(f, r.offset, true, heredoc ? "here-doc" : "here-string");
    if (is_shell_name(n) || n == "su") {
      scan_shell(body, hf, vars);
    } else if (is_python_name(n)) {
      scan_python(body, hf);
    } else if (script && lang != ScriptLang::Awk) {
      scan_script(lang, body, hf);
    } else if (n == "rev") {
      std::string s = body;
      std::reverse(s.begin(), s.end());
      scan_layer(s, child(f, r.offset, true, "reversed string"));
    } else if (heredoc) {
      scan_written(body, written_path(c, ec), hf);  // content written by cat/tee: a script or config dropped on disk
    }
  }
}

}  // namespace nonaxis::ciso::detail
