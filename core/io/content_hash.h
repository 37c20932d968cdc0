// FNV-1a 64-bit hashing for cache keys (not cryptographic: it names cached stages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace preflab::core {

constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;

inline std::uint64_t fnv1a(std::uint64_t h, const void *data, std::size_t n) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  for (std::size_t i = 0; i < n; ++i)
    h = (h ^ bytes[i]) * 1099511628211ull;
  return h;
}

// 16 lowercase hex digits.
std::string hexDigest(std::uint64_t h);

} // namespace preflab::core
