#pragma once
// What the scanner found, before it is turned into an assessment payload.
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "rule.hpp"

namespace nonaxis::ciso::detail {

struct Finding {
  const Rule* rule = nullptr;
  std::size_t offset = 0;    // byte offset in the content (or in the context when in_context)
  bool in_context = false;   // found in the operator's free-text context, not the content
  std::string layer;         // "" for content as written; e.g. "base64 payload" for decoded layers
  std::string excerpt;       // the document the rule matched, shortened
  std::size_t seq = 0;       // creation order of the matched document (reading order)
};

struct Connection {
  std::string host;
  int port = 0;
  std::string protocol;
  std::string purpose;
  std::size_t offset = 0;
};

struct FsWrite {
  std::string path;
  std::string operation;  // write | append | chmod | create | modify | delete
  std::size_t offset = 0;
};

struct Evidence {
  std::string language;  // shell | python | text
  std::size_t commands = 0;
  std::size_t decoded_layers = 0;
  std::vector<std::string> layer_notes;
  std::vector<Finding> findings;
  std::vector<Connection> connections;
  std::vector<FsWrite> writes;
  std::set<std::string> permissions;
};

}  // namespace nonaxis::ciso::detail
