#include "nonaxis/bus/canonical_json.hpp"

#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace nonaxis::bus {
namespace {

void append_u_escape(std::string& out, std::uint32_t unit) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", unit);
  out += buf;
}

// Decodes one UTF-8 scalar from s[i..]; nlohmann has already rejected invalid UTF-8.
std::uint32_t next_code_point(const std::string& s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int extra = b0 < 0x80 ? 0 : b0 < 0xE0 ? 1 : b0 < 0xF0 ? 2 : 3;
  std::uint32_t cp = extra == 0 ? b0 : extra == 1 ? (b0 & 0x1Fu) : extra == 2 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  ++i;
  for (; extra > 0 && i < s.size(); --extra, ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3Fu);
  return cp;
}

void python_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const std::uint32_t cp = next_code_point(s, i);
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || (cp >= 0x7F && cp < 0x10000)) {
          append_u_escape(out, cp);
        } else if (cp >= 0x10000) {
          const std::uint32_t v = cp - 0x10000;
          append_u_escape(out, 0xD800 + (v >> 10));
          append_u_escape(out, 0xDC00 + (v & 0x3FF));
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  out += '"';
}

void python_value(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: out += "null"; break;
    case Json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: out += j.dump(); break;
    case Json::value_t::string: python_string(out, j.get_ref<const std::string&>()); break;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ", ";
        first = false;
        python_value(out, v);
      }
      out += ']';
      break;
    }
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.items()) {  // std::map keeps keys in byte order == code point order
        if (!first) out += ", ";
        first = false;
        python_string(out, k);
        out += ": ";
        python_value(out, v);
      }
      out += '}';
      break;
    }
    default: throw std::invalid_argument("value kind not allowed in a signed token scope");
  }
}

}  // namespace

std::string canonical_dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::strict); }

std::string python_sorted_dumps(const Json& j) {
  std::string out;
  python_value(out, j);
  return out;
}

}  // namespace nonaxis::bus
