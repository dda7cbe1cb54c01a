#include "shell_parser.hpp"

#include "identifier.hpp"
#include "static_substitution.hpp"
#include "working_directory.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <unordered_set>

namespace nonaxis::ciso::detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_meta(char c) {
  return c == '|' || c == '&' || c == ';' || c == '(' || c == ')' || c == '<' || c == '>' || c == '\n' ||
         is_blank(c);
}
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | ((cp >> 18) & 0x07));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Token {
  enum class Kind { Word, Op, Redir, End };
  Kind kind = Kind::End;
  std::string op;  // operator or redirection operator
  Word word;       // the word, or the redirection target
  std::string body;
  std::size_t offset = 0;
};

// Pull lexer: the parser asks for one token at a time, so variable assignments made by
// earlier commands are already in `vars_` when later words are expanded.
class Lexer {
 public:
  Lexer(std::string_view s, VarMap& vars, ParsedShell& out) : s_(s), vars_(vars), out_(out) {}

  Token next() {
    for (;;) {
      while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
      if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == '\n') {
        i_ += 2;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
        continue;
      }
      break;
    }
    Token t;
    t.offset = i_;
    if (i_ >= s_.size()) return t;
    const char c = s_[i_];
    if (c == '\n') {
      ++i_;
      if (heredoc_resume_ > i_) i_ = heredoc_resume_;
      heredoc_resume_ = 0;
      return op_token("\n", t.offset);
    }
    if (auto r = redirect_op()) {
      t.kind = Token::Kind::Redir;
      t.op = *r;
      while (i_ < s_.size() && is_blank(s_[i_])) ++i_;
      if (i_ < s_.size() && (!is_meta(s_[i_]) || starts_process_subst())) t.word = read_word();
      pending_split_.clear();  // a redirection target is never split into several words
      if (t.op == "<<" || t.op == "<<-") t.body = read_heredoc_body(t.word.text, t.op == "<<-");
      return t;
    }
    if (c == '&' || c == '|' || c == ';' || c == '(' || c == ')') {
      const char n = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      std::size_t len = 1;
      if ((c == '&' && n == '&') || (c == '|' && (n == '|' || n == '&')) || (c == ';' && (n == ';' || n == '&'))) len = 2;
      std::string op(s_.substr(i_, len));
      i_ += len;
      return op_token(std::move(op), t.offset);
    }
    t.kind = Token::Kind::Word;
    t.word = read_word();
    return t;
  }

 private:
  Token op_token(std::string op, std::size_t off) {
    Token t;
    t.kind = Token::Kind::Op;
    t.op = std::move(op);
    t.offset = off;
    return t;
  }

  bool starts_process_subst() const {
    return i_ + 1 < s_.size() && (s_[i_] == '<' || s_[i_] == '>') && s_[i_ + 1] == '(';
  }

  std::optional<std::string> redirect_op() {
    const char c0 = s_[i_];
    if (c0 != '<' && c0 != '>' && c0 != '&' && std::isdigit(static_cast<unsigned char>(c0)) == 0) return std::nullopt;
    if (starts_process_subst()) return std::nullopt;
    std::size_t j = i_;
    while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j])) != 0) ++j;
    const std::string fd(s_.substr(i_, j - i_));
    if (j >= s_.size()) return std::nullopt;
    if (fd.empty() && s_[j] == '&' && j + 1 < s_.size() && s_[j + 1] == '>') {
      const bool app = j + 2 < s_.size() && s_[j + 2] == '>';
      i_ = j + (app ? 3 : 2);
      return std::string(app ? "&>>" : "&>");
    }
    if (s_[j] != '<' && s_[j] != '>') return std::nullopt;
    for (const char* op : {"<<<", "<<-", "<<", "<>", "<&", ">>", ">&", ">|", "<", ">"}) {
      const std::string_view o(op);
      if (s_.substr(j, o.size()) == o) {
        i_ = j + o.size();
        return fd + std::string(o);
      }
    }
    return std::nullopt;
  }

  // Reads the here-doc body that starts on the line after the current one.
  std::string read_heredoc_body(const std::string& delim, bool strip_tabs) {
    std::size_t start = heredoc_resume_ != 0 ? heredoc_resume_ : s_.find('\n', i_);
    if (start == std::string_view::npos) return {};
    if (heredoc_resume_ == 0) ++start;
    std::string body;
    std::size_t p = start;
    while (p < s_.size()) {
      std::size_t e = s_.find('\n', p);
      if (e == std::string_view::npos) e = s_.size();
      std::string_view line = s_.substr(p, e - p);
      if (strip_tabs) {
        while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
      }
      std::string_view trimmed = line;
      while (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
      p = e < s_.size() ? e + 1 : e;
      if (trimmed == delim) break;
      body.append(line);
      body.push_back('\n');
    }
    heredoc_resume_ = p;
    return body;
  }

  // Finds the ')' closing a "$(" or "<(" whose body starts at `from`; quote-aware.
  std::size_t matching_paren(std::size_t from) const {
    int depth = 1;
    std::size_t j = from;
    while (j < s_.size()) {
      const char c = s_[j];
      if (c == '\\') {
        j += 2;
        continue;
      }
      if (c == '\'') {
        const std::size_t e = s_.find('\'', j + 1);
        if (e == std::string_view::npos) return s_.size();
        j = e + 1;
        continue;
      }
      if (c == '"') {
        ++j;
        while (j < s_.size() && s_[j] != '"') j += s_[j] == '\\' ? 2u : 1u;
        ++j;
        continue;
      }
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) return j;
      ++j;
    }
    return s_.size();
  }

  // `splittable` stays empty until an unquoted expansion contributes text (the rare case), so
  // ordinary words cost no second allocation.
  // `folded`: what a static substitution spelled as `text` outputs; from then on the word
  // also carries that reading in `w.alt`.
  void append(Word& w, std::vector<bool>& splittable, std::string_view text, bool split,
              const std::string* folded = nullptr) {
    if (folded != nullptr && !w.alt) w.alt = w.text;
    if (w.alt) w.alt->append(folded != nullptr ? std::string_view(*folded) : text);
    // `split ||`: an expansion that starts the word leaves `splittable` empty after the
    // assign, and its characters must still be marked.
    if (split && splittable.empty()) splittable.assign(w.text.size(), false);
    w.text.append(text);
    if (split || !splittable.empty()) splittable.insert(splittable.end(), text.size(), split);
  }

  // $name, ${name}, $(..), $((..)), $'..' (outside double quotes), $"..".
  void read_dollar(Word& w, std::vector<bool>& sp, bool in_dq) {
    const std::size_t start = i_;
    ++i_;  // '$'
    if (i_ >= s_.size()) {
      append(w, sp, "$", false);
      return;
    }
    const char c = s_[i_];
    if (c == '(') {
      const bool arithmetic = i_ + 1 < s_.size() && s_[i_ + 1] == '(';
      const std::size_t close = matching_paren(i_ + 1);
      const std::string_view inner = s_.substr(i_ + 1, close - (i_ + 1));
      if (!arithmetic) out_.substitutions.push_back({std::string(inner), i_ + 1});
      i_ = std::min(close + 1, s_.size());
      const std::optional<std::string> v = arithmetic ? std::nullopt : static_substitution_output(inner, vars_);
      append(w, sp, s_.substr(start, i_ - start), false, v ? &*v : nullptr);
      w.dynamic = true;
      return;
    }
    if (c == '\'' && !in_dq) {
      const std::size_t body_start = i_ + 1;
      std::size_t j = body_start;
      while (j < s_.size() && s_[j] != '\'') j += s_[j] == '\\' ? 2u : 1u;
      const std::size_t end = std::min(j, s_.size());
      std::size_t encoded = 0;
      append(w, sp, decode_ansi_c(s_.substr(body_start, end - body_start), &encoded), false);
      out_.ansi_c_encoded += encoded;
      w.quoted = true;
      i_ = std::min(end + 1, s_.size());
      return;
    }
    if (c == '"' && !in_dq) {
      read_double_quoted(w, sp);
      return;
    }
    std::string name;
    bool braced = false;
    if (c == '{') {
      braced = true;
      std::size_t depth = 1;
      std::size_t j = i_ + 1;
      while (j < s_.size() && depth > 0) {
        if (s_[j] == '{') ++depth;
        if (s_[j] == '}') --depth;
        if (depth > 0) ++j;
      }
      name = std::string(s_.substr(i_ + 1, j - (i_ + 1)));
      i_ = std::min(j + 1, s_.size());
    } else if (is_ident_start(c)) {
      std::size_t j = i_;
      while (j < s_.size() && is_ident(s_[j])) ++j;
      name = std::string(s_.substr(i_, j - i_));
      i_ = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 || std::string_view("@*#?$!-").find(c) != std::string_view::npos) {
      ++i_;
      // Positional parameters are known when the caller bound them (`sh -c '...$1' _ ARG`).
      const bool digit = std::isdigit(static_cast<unsigned char>(c)) != 0;
      if (auto it = digit ? vars_.find(std::string(1, c)) : vars_.end(); it != vars_.end()) {
        append(w, sp, it->second, !in_dq);
        w.from_variables = true;
        return;
      }
      append(w, sp, s_.substr(start, i_ - start), false);
      w.dynamic = true;
      return;
    } else {
      append(w, sp, "$", false);
      return;
    }
    // ${IFS}, $IFS and ${IFS%??}-style variants are word separators in disguise.
    // Only an unquoted ${IFS} inside a command word acts as a hidden separator; `old=$IFS`
    // and "$IFS" are ordinary uses of the variable.
    if (name.rfind("IFS", 0) == 0 && (name.size() == 3 || !is_ident(name[3])) && !in_dq && !w.assignment) {
      append(w, sp, " ", !in_dq);
      ++out_.ifs_expansions;
      return;
    }
    const bool positional = !name.empty() && std::all_of(name.begin(), name.end(), [](char x) {
      return std::isdigit(static_cast<unsigned char>(x)) != 0;
    });
    const bool simple =
        positional || (!name.empty() && std::all_of(name.begin(), name.end(), is_ident) && is_ident_start(name[0]));
    if (simple) {
      auto it = vars_.find(name);
      if (it != vars_.end()) {
        append(w, sp, it->second, !in_dq);
        w.from_variables = true;
        return;
      }
      // A variable the script never sets, wedged between letters (`/etc/sh${u}adow`), is
      // empty at run time unless the environment happens to set it: read it as the shell would.
      const bool between_letters = !positional && !w.text.empty() && is_ident(w.text.back()) && i_ < s_.size() &&
                                   std::isalnum(static_cast<unsigned char>(s_[i_])) != 0;
      if (between_letters) {
        w.from_variables = true;
        return;
      }
      append(w, sp, "$" + name, false);
    } else if (std::optional<std::string> v = substring_expansion(name)) {
      append(w, sp, *v, !in_dq);
      w.from_variables = true;
      return;
    } else {
      append(w, sp, braced ? "${" + name + "}" : "$" + name, false);
    }
    w.dynamic = true;
  }

  // `${NAME:OFFSET:LENGTH}` of a script variable, and the one-character slices of HOME, PATH,
  // PWD and SHELL that every shell starts with '/' (`cat ${HOME:0:1}etc${HOME:0:1}shadow`).
  std::optional<std::string> substring_expansion(const std::string& expr) const {
    const std::size_t c1 = expr.find(':');
    const std::size_t c2 = c1 == std::string::npos ? std::string::npos : expr.find(':', c1 + 1);
    if (c2 == std::string::npos || c1 == 0) return std::nullopt;
    const std::string name = expr.substr(0, c1);
    const std::string off = expr.substr(c1 + 1, c2 - c1 - 1);
    const std::string len = expr.substr(c2 + 1);
    auto digits = [](const std::string& d) {
      return !d.empty() && d.size() <= 4 && std::all_of(d.begin(), d.end(), [](char x) { return x >= '0' && x <= '9'; });
    };
    if (!digits(off) || !digits(len) || !std::all_of(name.begin(), name.end(), is_ident)) return std::nullopt;
    const std::size_t o = std::stoul(off), l = std::stoul(len);
    if (const auto it = vars_.find(name); it != vars_.end()) return o <= it->second.size() ? it->second.substr(o, l) : "";
    if (o == 0 && l == 1 && (name == "HOME" || name == "PATH" || name == "PWD" || name == "SHELL")) return "/";
    return std::nullopt;
  }

  void read_backtick(Word& w, std::vector<bool>& sp) {
    const std::size_t start = i_;
    std::size_t j = i_ + 1;
    while (j < s_.size() && s_[j] != '`') j += s_[j] == '\\' ? 2u : 1u;
    const std::size_t end = std::min(j, s_.size());
    const std::string_view inner = s_.substr(start + 1, end - start - 1);
    out_.substitutions.push_back({std::string(inner), start + 1});
    i_ = std::min(end + 1, s_.size());
    const std::optional<std::string> v = static_substitution_output(inner, vars_);
    append(w, sp, s_.substr(start, i_ - start), false, v ? &*v : nullptr);
    w.dynamic = true;
  }

  void read_double_quoted(Word& w, std::vector<bool>& sp) {
    w.quoted = true;
    ++i_;  // opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < s_.size()) {
        const char n = s_[i_ + 1];
        if (n == '\n') {
          i_ += 2;
        } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
          append(w, sp, std::string(1, n), false);
          i_ += 2;
        } else {
          append(w, sp, s_.substr(i_, 2), false);
          i_ += 2;
        }
      } else if (c == '$') {
        read_dollar(w, sp, true);
      } else if (c == '`') {
        read_backtick(w, sp);
      } else {
        std::size_t e = i_ + 1;
        while (e < s_.size() && s_[e] != '"' && s_[e] != '\\' && s_[e] != '$' && s_[e] != '`') ++e;
        append(w, sp, s_.substr(i_, e - i_), false);
        i_ = e;
      }
    }
    if (i_ < s_.size()) ++i_;  // closing quote
  }

  Word read_word() {
    Word w;
    w.offset = i_;
    std::vector<bool> sp;
    // NAME=value (or NAME+=value) spelled with an unquoted name is an assignment.
    if (i_ < s_.size() && is_ident_start(s_[i_])) {
      std::size_t j = i_;
      while (j < s_.size() && is_ident(s_[j])) ++j;
      if (j < s_.size() && s_[j] == '+' && j + 1 < s_.size() && s_[j + 1] == '=') ++j;
      if (j < s_.size() && s_[j] == '=') {
        w.assignment = true;
        if (j + 1 < s_.size() && s_[j + 1] == '(') {  // array literal: keep as one word
          const std::size_t close = matching_paren(j + 2);
          const std::size_t end = std::min(close + 1, s_.size());
          append(w, sp, s_.substr(i_, end - i_), false);
          i_ = end;
          return w;
        }
      }
    }
    if (starts_process_subst()) {
      const std::size_t start = i_;
      const std::size_t close = matching_paren(i_ + 2);
      out_.substitutions.push_back({std::string(s_.substr(i_ + 2, close - (i_ + 2))), i_ + 2});
      i_ = std::min(close + 1, s_.size());
      append(w, sp, s_.substr(start, i_ - start), false);
      w.dynamic = true;
    }
    while (i_ < s_.size() && !is_meta(s_[i_])) {
      const char c = s_[i_];
      if (c == '\'') {
        w.quoted = true;
        const std::size_t e = s_.find('\'', i_ + 1);
        const std::size_t end = e == std::string_view::npos ? s_.size() : e;
        append(w, sp, s_.substr(i_ + 1, end - i_ - 1), false);
        i_ = std::min(end + 1, s_.size());
      } else if (c == '"') {
        read_double_quoted(w, sp);
      } else if (c == '\\') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] != '\n') append(w, sp, s_.substr(i_ + 1, 1), false);
        i_ += 2;
      } else if (c == '$') {
        read_dollar(w, sp, false);
      } else if (c == '`') {
        read_backtick(w, sp);
      } else {
        std::size_t e = i_ + 1;
        while (e < s_.size() && !is_meta(s_[e]) && s_[e] != '\'' && s_[e] != '"' && s_[e] != '\\' && s_[e] != '$' &&
               s_[e] != '`') {
          ++e;
        }
        append(w, sp, s_.substr(i_, e - i_), false);
        i_ = e;
      }
    }
    i_ = std::min(i_, s_.size());
    // Word splitting applies only to characters that came from unquoted expansions.
    if (std::find(sp.begin(), sp.end(), true) != sp.end()) pending_split_ = std::move(sp);
    return w;
  }

 public:
  bool split_pending() const { return !pending_split_.empty(); }

  // Splits the last word read where unquoted expansions produced blanks.
  std::vector<Word> split_last(Word w) {
    std::vector<Word> out;
    if (pending_split_.empty()) {
      out.push_back(std::move(w));
      return out;
    }
    std::vector<bool> sp = std::move(pending_split_);
    pending_split_.clear();
    // The folded reading belongs to the whole word; pieces cannot carry it.
    w.alt.reset();
    // A script that sets IFS (`IFS=,;cmd=curl,URL;$cmd`) splits on its characters. Blanks
    // still split too: that can only cut a word the shell would keep whole, and `${IFS}`
    // reads as a blank.
    const auto ifs = vars_.find("IFS");
    const std::string_view extra = ifs == vars_.end() ? std::string_view() : std::string_view(ifs->second);
    Word cur = w;
    cur.text.clear();
    for (std::size_t k = 0; k < w.text.size(); ++k) {
      const char c = w.text[k];
      if (k < sp.size() && sp[k] && (c == ' ' || c == '\t' || c == '\n' || extra.find(c) != std::string_view::npos)) {
        if (!cur.text.empty()) out.push_back(cur);
        cur.text.clear();
        cur.assignment = false;
        continue;
      }
      cur.text.push_back(c);
    }
    if (!cur.text.empty()) out.push_back(cur);
    return out;
  }

 private:
  std::string_view s_;
  VarMap& vars_;
  ParsedShell& out_;
  std::size_t i_ = 0;
  std::size_t heredoc_resume_ = 0;
  std::vector<bool> pending_split_;
};

bool is_keyword(const std::string& w) {
  static const std::unordered_set<std::string_view> kw = {"if", "then", "elif", "else", "fi", "do", "done", "while",
                                                          "until", "{", "}", "!", "time", "esac", "coproc", "in"};
  return w.size() <= 6 && kw.count(w) != 0;
}

// `x=$(which python || which python3)` is the usual way to pick an interpreter; remember
// the first candidate so `$x -c ...` is read as python.
std::optional<std::string> resolve_assignment(const Word& w, const std::string& value) {
  for (const char* prefix : {"$(which ", "`which ", "$(command -v ", "`command -v "}) {
    const std::string_view p(prefix);
    if (value.rfind(p, 0) == 0) {
      std::size_t e = p.size();
      while (e < value.size() && !is_blank(value[e]) && value[e] != ')' && value[e] != '`' && value[e] != '|') ++e;
      return value.substr(p.size(), e - p.size());
    }
  }
  if (w.alt) {  // `x=$(echo L2V0Yy9zaGFkb3c= | base64 -d)`: the output is known
    const std::size_t eq = w.alt->find('=');
    if (eq != std::string::npos && w.alt->find_first_of("$`", eq) == std::string::npos) return w.alt->substr(eq + 1);
  }
  if (w.dynamic) return std::nullopt;
  return value;
}

// `for NAME in WORDS...`: the body runs once per word, so NAME reads as the list. Binding it
// lets `for f in /var/log/*.log; do > "$f"; done` be seen truncating /var/log/*.log, the same
// as the loop written out. The words are joined with spaces: an unquoted `$f` splits back into
// them, and a rule reading the rendered command sees every item. A list that is only known at
// run time (`$(ls)`, `"$@"`, no `in`) leaves NAME unexpanded, like any run-time value.
class LoopHeader {
 public:
  void start() {
    *this = LoopHeader{};
    active_ = true;
  }
  void take(const Word& w) {
    if (!active_) return;
    if (name_.empty()) {
      if (w.quoted || w.text.empty() || !is_ident_start(w.text[0]) ||
          !std::all_of(w.text.begin(), w.text.end(), is_ident)) {
        active_ = false;  // `for ((i=0; ...))` and other forms: nothing to bind
        return;
      }
      name_ = w.text;
      return;
    }
    if (!in_) {
      in_ = !w.quoted && w.text == "in";
      if (!in_) active_ = false;
      return;
    }
    if (w.dynamic) static_ = false;
    if (!list_.empty()) list_ += ' ';
    list_ += w.text;
  }
  // At the end of the header (`;` or a newline before `do`).
  void bind(VarMap& vars) {
    if (!active_ || name_.empty()) return;
    if (in_ && static_ && !list_.empty()) {
      vars[name_] = std::move(list_);
    } else {
      vars.erase(name_);
    }
    active_ = false;
  }

 private:
  bool active_ = false;
  bool in_ = false;
  bool static_ = true;
  std::string name_;
  std::string list_;
};

}  // namespace

std::string decode_ansi_c(std::string_view b, std::size_t* encoded_printables) {
  std::string out;
  std::size_t encoded = 0;
  auto note = [&](unsigned long cp) {
    if (cp < 0x80 && std::isalnum(static_cast<unsigned char>(cp)) != 0) ++encoded;
  };
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '\\' || i + 1 >= b.size()) {
      out.push_back(b[i]);
      continue;
    }
    const char c = b[++i];
    switch (c) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'e':
      case 'E': out.push_back('\x1b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        unsigned long v = 0;
        std::size_t n = 0;
        while (n < 2 && i + 1 < b.size() && is_hex(b[i + 1])) {
          v = v * 16 + static_cast<unsigned long>(hex_value(b[++i]));
          ++n;
        }
        if (n == 0) {
          out.append("\\x");
        } else {
          note(v);
          out.push_back(static_cast<char>(v));
        }
        break;
      }
      case 'u':
      case 'U': {
        const std::size_t max = c == 'u' ? 4 : 8;
        unsigned long v = 0;
        std::size_t n = 0;
        while (n < max && i + 1 < b.size() && is_hex(b[i + 1])) {
          v = v * 16 + static_cast<unsigned long>(hex_value(b[++i]));
          ++n;
        }
        note(v);
        append_utf8(out, v);
        break;
      }
      case 'c':
        if (i + 1 < b.size()) out.push_back(static_cast<char>(b[++i] & 0x1f));
        break;
      default:
        if (c >= '0' && c <= '7') {
          unsigned long v = static_cast<unsigned long>(c - '0');
          std::size_t n = 1;
          while (n < 3 && i + 1 < b.size() && b[i + 1] >= '0' && b[i + 1] <= '7') {
            v = v * 8 + static_cast<unsigned long>(b[++i] - '0');
            ++n;
          }
          note(v);
          out.push_back(static_cast<char>(v & 0xff));
        } else {
          out.push_back(c);  // \\ \' \" \? and unknown escapes
        }
    }
  }
  if (encoded_printables != nullptr) *encoded_printables = encoded;
  return out;
}

ParsedShell parse_shell(std::string_view src, VarMap& vars) {
  ParsedShell out;
  Lexer lex(src, vars, out);
  Command cur;
  bool skipping_header = false;  // inside `for x in ...` / `case ... in` / `function name`
  LoopHeader loop;               // the `for`/`select` header being read, if any
  bool next_piped_in = false;
  std::size_t pipeline = 0;

  auto finish = [&](bool piped_out) {
    const bool has_words = !cur.words.empty();
    if (!has_words && !cur.assignments.empty()) {
      for (auto& [name, value] : cur.assignments) {
        if (!value) continue;  // known only at run time: stays unexpanded
        if (!value->empty() || !vars.count(name)) vars[name] = *value;
      }
    }
    if (has_words) {
      static const char* const decl[] = {"export", "declare", "local", "readonly", "typeset"};
      const std::string& a0 = cur.words[0].text;
      if (std::any_of(std::begin(decl), std::end(decl), [&](const char* d) { return a0 == d; })) {
        for (const Word& w : cur.words) {
          const auto eq = w.text.find('=');
          if (!w.assignment || eq == std::string::npos) continue;
          if (auto v = resolve_assignment(w, w.text.substr(eq + 1))) vars[w.text.substr(0, eq)] = *v;
        }
      }
    }
    if (has_words || !cur.redirects.empty() || !cur.assignments.empty()) {
      if (const auto pwd = vars.find("PWD"); pwd != vars.end()) cur.cwd = pwd->second;
      if (has_words) apply_directory_change(cur, vars);
      cur.pipeline = pipeline;
      cur.piped_in = next_piped_in;
      cur.piped_out = piped_out;
      out.commands.push_back(std::move(cur));
    }
    cur = Command{};
    next_piped_in = piped_out;
  };

  constexpr std::size_t kMaxTokens = 1u << 20;
  for (std::size_t n = 0; n < kMaxTokens; ++n) {
    Token t = lex.next();
    if (t.kind == Token::Kind::End) break;
    if (t.kind == Token::Kind::Op) {
      if (t.op == "|" || t.op == "|&") {
        finish(true);
        continue;
      }
      if (t.op == "(" && cur.words.size() == 1 && cur.redirects.empty()) {
        cur = Command{};  // `name() {...}`: a function definition, not a command
        continue;
      }
      finish(false);
      ++pipeline;
      skipping_header = false;
      loop.bind(vars);
      continue;
    }
    if (cur.words.empty() && cur.assignments.empty() && cur.redirects.empty()) cur.offset = t.offset;
    if (t.kind == Token::Kind::Redir) {
      cur.redirects.push_back({std::move(t.op), std::move(t.word.text), std::move(t.body), t.offset});
      continue;
    }
    auto take = [&](Word& w) {
      if (skipping_header) {
        loop.take(w);
        return;
      }
      if (cur.words.empty()) {
        const auto eq = w.text.find('=');
        if (w.assignment && eq != std::string::npos) {
          const std::string name = w.text.substr(0, eq);
          auto v = resolve_assignment(w, w.text.substr(eq + 1));
          if (!v) vars.erase(name);
          cur.assignments.emplace_back(name, std::move(v));
          return;
        }
        if (!w.quoted && (w.text == "for" || w.text == "select" || w.text == "case" || w.text == "function")) {
          skipping_header = true;
          if (w.text == "for" || w.text == "select") loop.start();
          return;
        }
        if (!w.quoted && is_keyword(w.text)) return;
      }
      cur.words.push_back(std::move(w));
    };
    // Most words are not split: take them as they are, without a vector of one.
    if (!lex.split_pending()) {
      take(t.word);
      continue;
    }
    for (Word& w : lex.split_last(std::move(t.word))) take(w);
  }
  finish(false);
  loop.bind(vars);
  out.pipelines = pipeline + 1;
  return out;
}

}  // namespace nonaxis::ciso::detail
