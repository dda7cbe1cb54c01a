#pragma once
// The execution record (issue 5 §2): what ran, how it ended, which layers were
// active, what was refused. Signed by the sandbox as a bus envelope and written
// durably for the Arbiter. Holds sizes and hashes of the output, never the output.
//
// Storage: <record_dir>/records.jsonl is the durable, hash-chained log (one line per
// record, one fdatasync per record). <record_dir>/<execution_id>.json is a copy of
// the same line for readers that want one file per execution; it is published
// without a sync because the log already holds its bytes, and after a crash it can
// be missing (republish_missing_records() restores it from the log).
#include <filesystem>
#include <string>

#include "nonaxis/bus/canonical_json.hpp"
#include "nonaxis/bus/keys.hpp"

namespace nonaxis::sandbox {

inline constexpr const char* kRecordLogName = "records.jsonl";

// Signs `payload` as a kExecutionRecord envelope chained to the previous record,
// appends it to the log durably, publishes <execution_id>.json, and returns the
// envelope. Serialised across concurrent sandboxes with flock on the log. A torn last
// line left by a crash (a record never acknowledged) is cut off first. Throws.
bus::Json sign_and_store_record(const bus::Json& payload, const bus::Key& key, const std::filesystem::path& record_dir);

// Re-creates <execution_id>.json for every log line whose copy is missing. Returns
// how many were restored.
std::size_t republish_missing_records(const std::filesystem::path& record_dir);

}  // namespace nonaxis::sandbox
