#pragma once
// Thin wrappers over OpenSSL 3: the only place the project touches crypto primitives.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nonaxis::bus {

std::string to_hex(std::span<const std::uint8_t> bytes);

// SHA-256 of `data`, lowercase hex.
std::string sha256_hex(std::string_view data);

// Incremental SHA-256, for content read from a descriptor in chunks.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string final_hex();

 private:
  void* ctx_;
};

// HMAC-SHA256 of `data` under `key`, lowercase hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Constant-time equality (CRYPTO_memcmp); unequal lengths compare unequal.
bool constant_time_equal(std::string_view a, std::string_view b);

// Bytes from the OpenSSL CSPRNG; throws if the generator fails.
std::vector<std::uint8_t> random_bytes(std::size_t n);

// RFC 4122 version-4 UUID from the CSPRNG.
std::string uuid_v4();

}  // namespace nonaxis::bus

namespace nonaxis::bus {
// Standard base64 with padding (OpenSSL EVP block coding).
std::string base64_encode(std::string_view data);
// Strict decode: nullopt on any character outside the alphabet or bad padding.
std::optional<std::string> base64_decode(std::string_view text);
}  // namespace nonaxis::bus
