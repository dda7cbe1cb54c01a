#include "decoders.hpp"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace nonaxis::ciso::detail {
namespace {

// Character classes of the cheap pre-pass in find_encoded_blobs.
constexpr unsigned char kB64 = 1, kHex = 2, kHexSep = 4, kBackslash = 8;

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (std::tolower(static_cast<unsigned char>(c)) - 'a') + 10;
}

}  // namespace

std::string decode_hex(std::string_view s) {
  std::string out;
  std::string digits;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c)) != 0) digits.push_back(c);
  }
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<char>(hexval(digits[i]) * 16 + hexval(digits[i + 1])));
  }
  return out;
}

namespace {

// "\x63\x75" or "\143\165": both spellings are common in printf/echo -e payloads.
std::string decode_escapes(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) continue;
    if (s[i + 1] == 'x' && i + 3 < s.size()) {
      out.push_back(static_cast<char>(hexval(s[i + 2]) * 16 + hexval(s[i + 3])));
      i += 3;
    } else if (i + 3 < s.size()) {
      out.push_back(static_cast<char>(((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')) & 0xff));
      i += 3;
    }
  }
  return out;
}

std::string decode_chr_chain(std::string_view s) {
  std::string out;
  re2::StringPiece in(s.data(), s.size());
  static const re2::RE2 num(R"re(chr\((\d{1,3})\))re");
  int v = 0;
  while (re2::RE2::FindAndConsume(&in, num, &v)) out.push_back(static_cast<char>(v & 0xff));
  return out;
}

}  // namespace

bool mostly_printable(std::string_view s) {
  if (s.size() < 4) return false;
  std::size_t ok = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r') ++ok;
  }
  return ok * 100 >= s.size() * 95;
}

std::string decode_base64(std::string_view s) {
  std::string in(s);
  while (in.size() % 4 != 0) in.push_back('=');
  std::string out(in.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return {};
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  for (std::size_t k = in.size(); k > 0 && in[k - 1] == '=' && len > 0; --k) --len;
  out.resize(len);
  return out;
}

std::vector<DecodedBlob> find_encoded_blobs(std::string_view text, std::size_t max_blobs, std::size_t max_bytes) {
  struct Kind {
    const char* name;
    const re2::RE2* re;
    std::string (*decode)(std::string_view);
  };
  static const re2::RE2 b64(R"re(([A-Za-z0-9+/]{16,}={0,2}))re");
  static const re2::RE2 esc(R"re(((?:\\x[0-9a-fA-F]{2}){4,}|(?:\\[0-7]{3}){4,}))re");
  static const re2::RE2 hex(R"re(((?:[0-9a-fA-F]{2}[ :]?){10,}))re");
  static const re2::RE2 chr(R"re(((?:chr\(\d{1,3}\)\s*[+,]?\s*){4,}))re");
  static const Kind kinds[] = {
      {"base64", &b64, decode_base64},
      {"escapes", &esc, decode_escapes},
      {"hex", &hex, decode_hex},
      {"chr", &chr, decode_chr_chain},
  };
  // One cheap pass decides which patterns can match at all, so plain commands cost no RE2 call:
  // base64 needs a run of 16 alphabet characters, hex 20 digits, escapes a backslash, chr "chr(".
  // Table-driven, and it stops as soon as all three answers are known: this pass runs over
  // every layer's whole text, so on a large script it was a visible share of the analysis.
  static const std::array<unsigned char, 256> cls = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) {
      const bool digit = c >= '0' && c <= '9';
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool hexd = digit || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
      t[static_cast<std::size_t>(c)] = static_cast<unsigned char>((digit || letter || c == '+' || c == '/' ? kB64 : 0) |
                                                                  (hexd ? kHex : 0) | (c == ' ' || c == ':' ? kHexSep : 0) |
                                                                  (c == '\\' ? kBackslash : 0));
    }
    return t;
  }();
  std::size_t run = 0, longest = 0, hex_digits = 0, hex_longest = 0;
  bool backslash = false;
  for (const char ch : text) {
    const unsigned char k = cls[static_cast<unsigned char>(ch)];
    run = (k & kB64) != 0 ? run + 1 : 0;
    longest = std::max(longest, run);
    if ((k & kHex) != 0) hex_longest = std::max(hex_longest, ++hex_digits);
    else if ((k & kHexSep) == 0) hex_digits = 0;
    backslash = backslash || (k & kBackslash) != 0;
    if (longest >= 16 && hex_longest >= 20 && backslash) break;
  }
  const bool possible[] = {longest >= 16, backslash, hex_longest >= 20, text.find("chr(") != std::string_view::npos};
  std::vector<DecodedBlob> out;
  std::size_t kind_index = 0;
  for (const Kind& k : kinds) {
    if (!possible[kind_index++]) continue;
    re2::StringPiece in(text.data(), text.size());
    re2::StringPiece m;
    while (out.size() < max_blobs && re2::RE2::FindAndConsume(&in, *k.re, &m)) {
      if (m.size() > max_bytes * 2) continue;
      std::string decoded = k.decode(std::string_view(m.data(), m.size()));
      if (!mostly_printable(decoded)) continue;
      // Plain words and paths also match the base64 alphabet; demand that decoding changed
      // the text into something with separators, as real payloads have.
      if (decoded.find_first_of(" ;|/\n=(") == std::string::npos) continue;
      out.push_back({k.name, std::move(decoded), static_cast<std::size_t>(m.data() - text.data())});
    }
  }
  return out;
}

std::string rot13(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>('a' + (c - 'a' + 13) % 26);
    else if (c >= 'A' && c <= 'Z') c = static_cast<char>('A' + (c - 'A' + 13) % 26);
  }
  return out;
}

}  // namespace nonaxis::ciso::detail
