#pragma once
// Finds encoded blobs (base64, hex, \xNN / \NNN escapes, chr() chains) and decodes the ones
// whose plaintext is readable, so the scanner can analyse what is hidden inside.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nonaxis::ciso::detail {

struct DecodedBlob {
  std::string kind;        // "base64", "hex", "escapes", "chr"
  std::string text;        // decoded plaintext
  std::size_t offset = 0;  // where the encoded form starts in the scanned text
};

// At most `max_blobs` decoded blobs, each at most `max_bytes` long.
std::vector<DecodedBlob> find_encoded_blobs(std::string_view text, std::size_t max_blobs, std::size_t max_bytes);

bool mostly_printable(std::string_view s);
std::string decode_base64(std::string_view s);  // empty on invalid input
std::string decode_hex(std::string_view s);     // hex digit pairs; other characters are skipped
std::string rot13(std::string_view s);          // letters rotated by 13; everything else kept

}  // namespace nonaxis::ciso::detail
