// Hex formatting of cache-key hashes.
#include "core/io/content_hash.h"

#include <cstdio>

namespace preflab::core {

std::string hexDigest(std::uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

} // namespace preflab::core
