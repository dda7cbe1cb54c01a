#include "yaml_json.hpp"

#include <charconv>
#include <string>

namespace nonaxis::arbiter {
namespace {

nlohmann::json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  if (s == "null" || s == "~") return nullptr;
  long long i = 0;
  if (auto r = std::from_chars(s.data(), s.data() + s.size(), i); r.ec == std::errc{} && r.ptr == s.data() + s.size()) {
    return i;
  }
  double d = 0;
  if (auto r = std::from_chars(s.data(), s.data() + s.size(), d); r.ec == std::errc{} && r.ptr == s.data() + s.size()) {
    return d;
  }
  return s;
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar(node);
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& v : node) a.push_back(yaml_to_json(v));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : node) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace nonaxis::arbiter
