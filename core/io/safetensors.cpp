// safetensors reader (validates the whole header before allocating) and atomic writer.
#include "core/io/safetensors.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

namespace preflab::core {

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char *kMetadataKey = "__metadata__";

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr bool kBigEndianHost = true;
#else
constexpr bool kBigEndianHost = false;
#endif

struct DtypeInfo {
  const char *name;
  torch::ScalarType type;
  std::size_t itemSize;
};

const DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kFloat64, 8}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

// Part of the format, but without a LibTorch 1.13 counterpart (or an exact one).
const char *const kKnownUnsupported[] = {"U16",         "U32",     "U64",     "C64",
                                         "F8_E5M2",     "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
                                         "F8_E5M2FNUZ", "F4",      "F6_E2M3", "F6_E3M2"};

const char *kSupportedList = "F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL";

const DtypeInfo *dtypeByName(const std::string &name) {
  for (const auto &d : kDtypes)
    if (name == d.name)
      return &d;
  return nullptr;
}

const DtypeInfo *dtypeByType(torch::ScalarType type) {
  for (const auto &d : kDtypes)
    if (type == d.type)
      return &d;
  return nullptr;
}

// Reverses the bytes of each element; called only on big-endian hosts, where the file's
// little-endian order differs from memory order.
void flipByteOrder(char *data, std::size_t count, std::size_t itemSize) {
  if (itemSize < 2)
    return;
  for (std::size_t i = 0; i < count; ++i)
    std::reverse(data + i * itemSize, data + (i + 1) * itemSize);
}

struct Entry {
  std::string key;
  const DtypeInfo *dtype = nullptr;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

// Reads safetensors files; every failure is an InputError naming the file (and key).
class Reader {
public:
  explicit Reader(const std::string &path) : m_path(path) {}

  std::map<std::string, torch::Tensor> read(std::map<std::string, std::string> *metadata);

private:
  [[noreturn]] void fail(const std::string &key, const std::string &message) const {
    throw InputError(m_path, 0, key, message);
  }
  std::string readHeaderText();
  nlohmann::json parseHeader(const std::string &text) const;
  void parseMetadata(const nlohmann::json &value, std::map<std::string, std::string> *out) const;
  Entry parseEntry(const std::string &key, const nlohmann::json &value) const;
  std::vector<std::int64_t> parseShape(const std::string &key, const nlohmann::json &shape) const;
  void checkLayout(std::vector<Entry> entries) const;
  torch::Tensor readTensor(const Entry &entry);

  std::string m_path;
  std::ifstream m_in;
  std::uint64_t m_fileSize = 0;
  std::uint64_t m_dataStart = 0; // 8 + header length
};

std::string Reader::readHeaderText() {
  // Only a regular file: a FIFO would block the open forever and a directory "opens" with a
  // nonsense size on some systems.
  struct stat info {};
  if (::stat(m_path.c_str(), &info) != 0)
    fail({}, "no such file");
  if (!S_ISREG(info.st_mode))
    fail({}, S_ISDIR(info.st_mode) ? "is a directory, not a safetensors file"
                                   : "is not a regular file (a FIFO or device cannot hold weights)");
  m_in.open(m_path, std::ios::binary);
  if (!m_in)
    fail({}, "cannot open file");
  m_in.seekg(0, std::ios::end);
  const auto size = m_in.tellg();
  if (!m_in || size < 0)
    fail({}, "cannot determine the file size");
  m_fileSize = static_cast<std::uint64_t>(size);
  m_in.seekg(0);
  if (m_fileSize < 8)
    fail({}, "file has " + std::to_string(m_fileSize) +
                 " bytes, fewer than the 8-byte header length field: not a safetensors file");
  unsigned char lengthBytes[8];
  m_in.read(reinterpret_cast<char *>(lengthBytes), 8);
  if (m_in.gcount() != 8)
    fail({}, "cannot read the 8-byte header length");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | lengthBytes[i];
  if (n > kMaxHeaderBytes)
    fail({}, "header length " + std::to_string(n) + " exceeds the limit of " +
                 std::to_string(kMaxHeaderBytes) + " bytes");
  if (n > m_fileSize - 8)
    fail({}, "header length " + std::to_string(n) + " is larger than the file (" +
                 std::to_string(m_fileSize) + " bytes): truncated or not a safetensors file");
  std::string text(n, '\0');
  m_in.read(text.data(), static_cast<std::streamsize>(n));
  if (!m_in)
    fail({}, "cannot read the header");
  m_dataStart = 8 + n;
  return text;
}

nlohmann::json Reader::parseHeader(const std::string &text) const {
  if (text.empty() || text[0] != '{')
    fail({}, "header does not start with '{'");
  // nlohmann keeps the last of two equal keys; the format forbids them, so track each open
  // object's keys during parsing (a SAX parser would do as well, with more code).
  std::vector<std::set<std::string>> openObjects;
  std::string duplicate;
  auto watch = [&](int, nlohmann::json::parse_event_t event, nlohmann::json &parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start)
      openObjects.emplace_back();
    else if (event == Event::object_end && !openObjects.empty())
      openObjects.pop_back();
    else if (event == Event::key && !openObjects.empty() &&
             !openObjects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, watch);
  } catch (const nlohmann::json::exception &e) {
    fail({}, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty())
    fail(duplicate, "duplicate key in header");
  return header;
}

void Reader::parseMetadata(const nlohmann::json &value,
                           std::map<std::string, std::string> *out) const {
  if (!value.is_object())
    fail(kMetadataKey, "must be an object of strings");
  for (const auto &item : value.items()) {
    if (!item.value().is_string())
      fail(std::string(kMetadataKey) + "." + item.key(), "metadata values must be strings");
    if (out)
      (*out)[item.key()] = item.value().get<std::string>();
  }
}

std::vector<std::int64_t> Reader::parseShape(const std::string &key,
                                             const nlohmann::json &shape) const {
  if (!shape.is_array())
    fail(key, "\"shape\" must be an array of integers");
  std::vector<std::int64_t> dims;
  for (const auto &dim : shape) {
    if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<std::int64_t>() < 0)
      fail(key, "negative dimension " + std::to_string(dim.get<std::int64_t>()) + " in shape");
    if (!dim.is_number_unsigned() ||
        dim.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      fail(key, "\"shape\" must be an array of non-negative integers, got " + shape.dump());
    dims.push_back(dim.get<std::int64_t>());
  }
  return dims;
}

Entry Reader::parseEntry(const std::string &key, const nlohmann::json &value) const {
  if (!value.is_object())
    fail(key, "tensor entry must be an object");
  for (const char *field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field))
      fail(key, std::string("tensor entry has no \"") + field + "\"");
  Entry e;
  e.key = key;
  const auto &dtype = value["dtype"];
  if (!dtype.is_string())
    fail(key, "\"dtype\" must be a string");
  const std::string name = dtype.get<std::string>();
  e.dtype = dtypeByName(name);
  if (!e.dtype) {
    const bool known = std::any_of(std::begin(kKnownUnsupported), std::end(kKnownUnsupported),
                                   [&](const char *d) { return name == d; });
    fail(key, (known ? "dtype '" + name + "' is not supported" : "unknown dtype '" + name + "'") +
                  " (supported: " + kSupportedList + ")");
  }
  e.shape = parseShape(key, value["shape"]);
  const auto &offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(key, "\"data_offsets\" must be two non-negative integers, got " + offsets.dump());
  e.begin = offsets[0].get<std::uint64_t>();
  e.end = offsets[1].get<std::uint64_t>();
  if (e.begin > e.end)
    fail(key, "data_offsets begin " + std::to_string(e.begin) + " is after end " +
                  std::to_string(e.end));
  // numel * itemSize, refusing any product that overflows 64 bits.
  std::uint64_t bytes = e.dtype->itemSize;
  for (std::int64_t dim : e.shape) {
    if (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / std::uint64_t(dim))
      fail(key, "shape is too large (byte size overflows)");
    bytes *= std::uint64_t(dim);
  }
  if (e.end - e.begin != bytes)
    fail(key, "data_offsets span " + std::to_string(e.end - e.begin) + " bytes but " + name +
                  " shape " + value["shape"].dump() + " needs " + std::to_string(bytes));
  return e;
}

void Reader::checkLayout(std::vector<Entry> entries) const {
  const std::uint64_t bufferSize = m_fileSize - m_dataStart;
  for (const auto &e : entries)
    if (e.end > bufferSize)
      fail(e.key, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                      "] run past the end of the " + std::to_string(bufferSize) +
                      "-byte data buffer (truncated file?)");
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t expected = 0;
  std::string previous;
  for (const auto &e : entries) {
    if (e.begin < expected)
      fail(e.key, "data overlaps the data of tensor '" + previous + "'");
    if (e.begin > expected)
      fail(e.key, "bytes " + std::to_string(expected) + ".." + std::to_string(e.begin) +
                      " before this tensor belong to no tensor (hole in the data buffer)");
    expected = e.end;
    previous = e.key;
  }
  if (expected != bufferSize)
    fail({}, "bytes " + std::to_string(expected) + ".." + std::to_string(bufferSize) +
                 " at the end of the data buffer belong to no tensor");
}

torch::Tensor Reader::readTensor(const Entry &entry) {
  auto tensor = torch::empty(entry.shape, torch::TensorOptions().dtype(entry.dtype->type));
  const std::uint64_t bytes = entry.end - entry.begin;
  if (bytes == 0)
    return tensor;
  char *data = static_cast<char *>(tensor.data_ptr());
  m_in.seekg(static_cast<std::streamoff>(m_dataStart + entry.begin));
  m_in.read(data, static_cast<std::streamsize>(bytes));
  if (!m_in)
    fail(entry.key, "cannot read tensor data");
  if (entry.dtype->type == torch::kBool)
    for (std::uint64_t i = 0; i < bytes; ++i)
      if (static_cast<unsigned char>(data[i]) > 1)
        fail(entry.key, "BOOL tensor holds byte " +
                            std::to_string(static_cast<unsigned char>(data[i])) +
                            " (only 0 and 1 are valid)");
  if (kBigEndianHost)
    flipByteOrder(data, std::size_t(tensor.numel()), entry.dtype->itemSize);
  return tensor;
}

std::map<std::string, torch::Tensor> Reader::read(std::map<std::string, std::string> *metadata) {
  const nlohmann::json header = parseHeader(readHeaderText());
  if (metadata)
    metadata->clear();
  std::vector<Entry> entries;
  for (const auto &item : header.items()) {
    if (item.key() == kMetadataKey)
      parseMetadata(item.value(), metadata);
    else
      entries.push_back(parseEntry(item.key(), item.value()));
  }
  checkLayout(entries);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &e : entries)
    tensors.emplace(e.key, readTensor(e));
  return tensors;
}

void appendTensorBytes(std::string &out, const torch::Tensor &cpu, std::size_t itemSize) {
  const std::size_t bytes = std::size_t(cpu.numel()) * itemSize;
  if (bytes == 0)
    return;
  const std::size_t at = out.size();
  out.append(static_cast<const char *>(cpu.data_ptr()), bytes);
  if (kBigEndianHost)
    flipByteOrder(out.data() + at, std::size_t(cpu.numel()), itemSize);
}

} // namespace

std::map<std::string, torch::Tensor> readSafetensors(const std::string &path,
                                                     std::map<std::string, std::string> *metadata) {
  return Reader(path).read(metadata);
}

void writeSafetensors(const std::string &path, const std::map<std::string, torch::Tensor> &tensors,
                      const std::map<std::string, std::string> &metadata) {
  // ordered_json keeps insertion order, which makes a single-dtype file byte-identical to what
  // the reference writer produces ("__metadata__" first, entries with dtype, shape, offsets).
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header[kMetadataKey] = metadata;
  std::vector<std::pair<torch::Tensor, const DtypeInfo *>> data;
  std::uint64_t offset = 0;
  for (const auto &[name, tensor] : tensors) {
    if (name == kMetadataKey)
      throw std::invalid_argument(path + ": a tensor may not be named \"__metadata__\"");
    const DtypeInfo *info = dtypeByType(tensor.scalar_type());
    if (!info)
      throw std::invalid_argument(path + ": tensor '" + name + "': dtype " +
                                  std::string(c10::toString(tensor.scalar_type())) +
                                  " cannot be stored (supported: " + kSupportedList + ")");
    auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    const std::uint64_t bytes = std::uint64_t(cpu.numel()) * info->itemSize;
    nlohmann::ordered_json entry;
    entry["dtype"] = info->name;
    entry["shape"] = cpu.sizes().vec();
    entry["data_offsets"] = {offset, offset + bytes};
    header[name] = std::move(entry);
    data.emplace_back(cpu, info);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string content;
  content.reserve(8 + text.size() + offset);
  for (int i = 0; i < 8; ++i)
    content.push_back(static_cast<char>((std::uint64_t(text.size()) >> (8 * i)) & 0xff));
  content += text;
  for (const auto &[cpu, info] : data)
    appendTensorBytes(content, cpu, info->itemSize);
  // One buffer then an atomic rename: simpler than streaming to a temporary file, at the cost of
  // holding one copy of the weights in memory while writing.
  writeFileAtomic(path, content);
}

} // namespace preflab::core
