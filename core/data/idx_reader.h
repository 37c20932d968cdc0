// Reads IDX files (the MNIST / Fashion-MNIST container), plain or gzip-compressed, into a plain array.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// The contents of one IDX file of unsigned bytes: dims as stored (outermost first) and the data
// in row-major order, data.size() == product of dims.
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;

  std::int64_t count() const { return dims.empty() ? 0 : dims.front(); } // size of the first dim
};

// Reads `path`: a big-endian IDX file (magic 0x00 0x00 <dtype> <ndims>, ndims uint32 dims, data)
// whose dtype is 0x08 (unsigned byte), either plain or gzip-compressed (detected from the content,
// not the name). Throws InputError naming the file, with key "file" (missing or unreadable),
// "magic" (not an IDX header, or too short for one), "dtype" (any other element type), "dims"
// (no dims, more than 8, a size beyond 2^40 bytes, or data longer than the dims say) or "data"
// (truncated or corrupt gzip data). Thread-safe (no shared state).
IdxArray readIdxFile(const std::string &path);

} // namespace preflab::core
