// IDX reader: header checks, big-endian dims and chunked reads through zlib (gzip or plain).
#include "core/data/idx_reader.h"

#include "core/io/input_error.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <type_traits>

namespace preflab::core {

namespace {

constexpr int kUnsignedByte = 0x08;
constexpr int kMaxDims = 8;
constexpr std::int64_t kMaxBytes = std::int64_t(1) << 40;
constexpr unsigned kChunkBytes = 1u << 20;

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

std::string dtypeName(int dtype) {
  switch (dtype) {
  case 0x09:
    return "0x09 (signed byte)";
  case 0x0B:
    return "0x0B (int16)";
  case 0x0C:
    return "0x0C (int32)";
  case 0x0D:
    return "0x0D (float32)";
  case 0x0E:
    return "0x0E (float64)";
  default:
    break;
  }
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%02X", dtype);
  return std::string(buffer) + " (not an IDX type)";
}

// gzread wraps plain files transparently (it copies them as they are), so one path reads both.
class IdxFile {
public:
  explicit IdxFile(const std::string &path) : m_path(path) {
    std::error_code code;
    if (!std::filesystem::exists(path, code))
      throw InputError(path, 0, "file", "no such file");
    if (std::filesystem::is_directory(path, code))
      throw InputError(path, 0, "file", "is a directory, not an IDX file");
    m_file.reset(gzopen(path.c_str(), "rb"));
    if (!m_file)
      throw InputError(path, 0, "file", "cannot be opened for reading");
    gzbuffer(m_file.get(), kChunkBytes);
  }

  // Reads up to `size` bytes into `out`; returns how many were read (short only at the end).
  std::size_t read(std::uint8_t *out, std::size_t size, const char *key) {
    std::size_t done = 0;
    while (done < size) {
      const unsigned want = unsigned(std::min<std::size_t>(size - done, kChunkBytes));
      const int got = gzread(m_file.get(), out + done, want);
      if (got < 0) {
        int code = 0;
        const char *message = gzerror(m_file.get(), &code);
        throw InputError(m_path, 0, key, std::string("corrupt gzip data: ") + message);
      }
      if (got == 0)
        break;
      done += std::size_t(got);
    }
    return done;
  }

private:
  std::string m_path;
  GzHandle m_file;
};

std::uint32_t bigEndian(const std::uint8_t *bytes) {
  return (std::uint32_t(bytes[0]) << 24) | (std::uint32_t(bytes[1]) << 16) | (std::uint32_t(bytes[2]) << 8) |
         std::uint32_t(bytes[3]);
}

std::string shapeText(const std::vector<std::int64_t> &dims) {
  std::string text;
  for (std::int64_t dim : dims)
    text += (text.empty() ? "" : "x") + std::to_string(dim);
  return text;
}

std::vector<std::int64_t> readHeader(IdxFile &file, const std::string &path) {
  std::array<std::uint8_t, 4> magic{};
  const std::size_t got = file.read(magic.data(), magic.size(), "magic");
  if (got < magic.size())
    throw InputError(path, 0, "magic",
                     "the file has " + std::to_string(got) + " bytes, too short for an IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(path, 0, "magic", "not an IDX file (the first two bytes are not zero)");
  if (magic[2] != kUnsignedByte)
    throw InputError(path, 0, "dtype",
                     "unsupported element type " + dtypeName(magic[2]) +
                         "; only 0x08 (unsigned byte) is read");
  const int ndims = magic[3];
  if (ndims < 1 || ndims > kMaxDims)
    throw InputError(path, 0, "dims",
                     std::to_string(ndims) + " dimensions; 1 to " + std::to_string(kMaxDims) + " are read");
  std::vector<std::uint8_t> raw(std::size_t(ndims) * 4);
  if (file.read(raw.data(), raw.size(), "dims") < raw.size())
    throw InputError(path, 0, "dims", "the file ends inside the list of " + std::to_string(ndims) + " dims");
  std::vector<std::int64_t> dims;
  for (int i = 0; i < ndims; ++i)
    dims.push_back(std::int64_t(bigEndian(raw.data() + 4 * i)));
  return dims;
}

} // namespace

IdxArray readIdxFile(const std::string &path) {
  IdxFile file(path);
  IdxArray array;
  array.dims = readHeader(file, path);
  std::int64_t total = 1;
  if (std::find(array.dims.begin(), array.dims.end(), 0) != array.dims.end())
    total = 0; // an empty array, however large the other dims
  for (std::int64_t dim : array.dims) {
    if (total == 0)
      break;
    if (total > kMaxBytes / dim) // checked before multiplying: two dims near 2^32 overflow int64
      throw InputError(path, 0, "dims", "dims " + shapeText(array.dims) + " describe more than 2^40 bytes");
    total *= dim;
  }
  // Grow in chunks rather than trusting the header with one allocation: a corrupt header then
  // costs at most what the file really holds.
  std::size_t filled = 0;
  while (filled < std::size_t(total)) {
    const std::size_t next = std::min(std::size_t(total), filled + (std::size_t(64) << 20));
    array.data.resize(next);
    const std::size_t got = file.read(array.data.data() + filled, next - filled, "data");
    filled += got;
    if (filled < next)
      throw InputError(path, 0, "data",
                       "truncated: dims " + shapeText(array.dims) + " need " + std::to_string(total) +
                           " bytes of data, the file has " + std::to_string(filled));
  }
  std::uint8_t extra = 0;
  if (file.read(&extra, 1, "data") > 0)
    throw InputError(path, 0, "dims",
                     "dims " + shapeText(array.dims) + " do not match the size: the file has more than " +
                         std::to_string(total) + " bytes of data");
  return array;
}

} // namespace preflab::core
