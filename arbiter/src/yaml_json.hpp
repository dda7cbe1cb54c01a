#pragma once
// YAML documents as JSON values, so policy conditions compare like-for-like with
// the JSON messages they are evaluated against.
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace nonaxis::arbiter {

// Plain scalars become booleans, integers or numbers when they parse as such;
// quoted scalars always stay strings ("true" in quotes is a string).
nlohmann::json yaml_to_json(const YAML::Node& node);

}  // namespace nonaxis::arbiter
