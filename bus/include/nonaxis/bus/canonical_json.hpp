#pragma once
// The two byte-exact JSON forms the protocol signs.
#include <nlohmann/json.hpp>
#include <string>

namespace nonaxis::bus {

using Json = nlohmann::json;

// Bus canonical form: keys sorted by UTF-8 byte order, no insignificant whitespace,
// strings as UTF-8 with minimal escaping (nlohmann's dump of an ordered map).
// Envelope signatures, chain hashes and the ledger are computed over this form.
std::string canonical_dump(const Json& j);

// Python's json.dumps(obj, sort_keys=True) with default separators (", " and ": ")
// and ensure_ascii=True. ADR-006 signs the token scope in exactly this form.
// Throws std::invalid_argument for floating-point numbers, which scopes never hold.
std::string python_sorted_dumps(const Json& j);

}  // namespace nonaxis::bus
