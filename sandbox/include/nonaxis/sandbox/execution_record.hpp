#pragma once
// The execution record (issue 5 §2): what ran, how it ended, which layers were
// active, what was refused. Signed by the sandbox as a bus envelope and written
// durably for the Arbiter. Holds sizes and hashes of the output, never the output.
#include <filesystem>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::sandbox {

// Signs `payload` as a kExecutionRecord envelope chained to the previous record in
// `record_dir`, writes <record_dir>/<execution_id>.json durably, and returns the
// envelope. Serialised across concurrent sandboxes with flock. Throws on failure.
bus::Json sign_and_store_record(const bus::Json& payload, const bus::Key& key, const std::filesystem::path& record_dir);

}  // namespace nonaxis::sandbox
