#pragma once
// Structured JSON logs on stderr, one object per line. Callers pass ids and hashes
// only: never content, prompts, runner output or secrets.
#include <string_view>

#include "nonaxis/bus/canonical_json.hpp"

namespace nonaxis::bus {

void set_log_component(std::string_view component);
void log_info(std::string_view event, const Json& fields = Json::object());
void log_warn(std::string_view event, const Json& fields = Json::object());
void log_error(std::string_view event, const Json& fields = Json::object());

}  // namespace nonaxis::bus
