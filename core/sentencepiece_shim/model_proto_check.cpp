// checkModelProto: a protobuf wire-format walk and a bounds proof for darts-clone double arrays.
#include "core/sentencepiece_shim/model_proto_check.h"

#include <cstdint>
#include <cstring>
#include <vector>

namespace preflab::sentencepiece_shim {

namespace {

// ModelProto (sentencepiece_model.proto): 1 = pieces (repeated SentencePiece, whose 1 = piece),
// 3 = normalizer_spec, 5 = denormalizer_spec (NormalizerSpec, whose 2 = precompiled_charsmap).
constexpr std::uint32_t kPiecesField = 1, kPieceStringField = 1, kNormalizerField = 3, kDenormalizerField = 5,
                        kCharsMapField = 2;
constexpr int kWireVarint = 0, kWireFixed64 = 1, kWireBytes = 2, kWireFixed32 = 5;
// A trie of more units than this (4 MiB) is refused rather than walked (256 steps per node);
// nmt_nfkc's has 44,288.
constexpr std::size_t kMaxTrieUnits = std::size_t(1) << 20;

struct WireField {
  std::uint32_t number = 0;
  int wireType = 0;
  const char *data = nullptr; // kWireBytes: the payload
  std::size_t size = 0;
};

// Reads the field at `pos` of [begin, end) and moves `pos` past it; false (with `why`) if malformed.
class WireReader {
public:
  WireReader(const char *begin, std::size_t size) : m_begin(begin), m_pos(begin), m_end(begin + size) {}
  bool done() const { return m_pos == m_end; }
  bool next(WireField &field, std::string &why) {
    std::uint64_t key = 0;
    if (!varint(key) || key >> 3 == 0 || key >> 3 > 0x1FFFFFFF)
      return fail(why, "a bad field key");
    field.number = static_cast<std::uint32_t>(key >> 3);
    field.wireType = static_cast<int>(key & 7);
    std::uint64_t length = 0;
    switch (field.wireType) {
    case kWireVarint:
      return varint(length) || fail(why, "a varint that runs past the end");
    case kWireFixed64:
      return skip(8) || fail(why, "a fixed64 that runs past the end");
    case kWireFixed32:
      return skip(4) || fail(why, "a fixed32 that runs past the end");
    case kWireBytes:
      if (!varint(length) || length > std::uint64_t(m_end - m_pos))
        return fail(why, "a length-delimited field that runs past the end");
      field.data = m_pos;
      field.size = static_cast<std::size_t>(length);
      m_pos += length;
      return true;
    default:
      return fail(why, "a group or an unknown wire type");
    }
  }

private:
  const char *m_begin, *m_pos, *m_end;

  bool varint(std::uint64_t &out) {
    out = 0;
    for (int shift = 0; shift < 64 && m_pos < m_end; shift += 7) {
      const auto byte = static_cast<unsigned char>(*m_pos++);
      out |= std::uint64_t(byte & 0x7F) << shift;
      if (byte < 0x80)
        return true;
    }
    return false;
  }
  bool skip(std::size_t n) {
    if (std::size_t(m_end - m_pos) < n)
      return false;
    m_pos += n;
    return true;
  }
  bool fail(std::string &why, const char *what) const {
    why = "malformed protobuf at byte " + std::to_string(m_pos - m_begin) + " (" + what +
          "): a truncated file, or another format";
    return false;
  }
};

// darts-clone's unit layout, as its commonPrefixSearch() reads it.
bool unitHasLeaf(std::uint32_t u) {
  return (u >> 8) & 1;
}
std::uint32_t unitValue(std::uint32_t u) {
  return u & ((1u << 31) - 1);
}
std::uint32_t unitLabel(std::uint32_t u) {
  return u & ((1u << 31) | 0xFF);
}
std::uint32_t unitOffset(std::uint32_t u) {
  return (u >> 10) << ((u & (1u << 9)) >> 6);
}

// A lookup reads units[node ^ byte] for any input byte, follows a matching label to
// node' = that ^ offset, and at a leaf reads units[node'] as an index of a 0-terminated string in
// `strings`. Every node reachable from the root is visited once, so no input can go out of range.
bool trieStaysInside(const std::vector<std::uint32_t> &units, const char *strings, std::size_t stringsSize) {
  const std::size_t n = units.size();
  if (n == 0 || n > kMaxTrieUnits)
    return false;
  std::vector<bool> seen(n, false);
  std::vector<std::uint32_t> pending;
  auto reach = [&](std::uint32_t node) { // in range for every next byte, queued once
    if ((std::size_t(node) | 0xFF) >= n)
      return false;
    if (!seen[node]) {
      seen[node] = true;
      pending.push_back(node);
    }
    return true;
  };
  if (!reach(unitOffset(units[0])))
    return false;
  while (!pending.empty()) {
    const std::uint32_t node = pending.back();
    pending.pop_back();
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
      const std::uint32_t at = node ^ byte, unit = units[at];
      if (unitLabel(unit) != byte)
        continue;
      const std::uint32_t child = at ^ unitOffset(unit);
      if (!reach(child))
        return false;
      if (unitHasLeaf(unit)) {
        const std::uint32_t value = unitValue(units[child]);
        if (value >= stringsSize || !std::memchr(strings + value, '\0', stringsSize - value))
          return false;
      }
    }
  }
  return true;
}

// The blob: a little-endian uint32 trie size, the trie, then the replacement strings. Sizes the
// library rejects itself (a blob of 4 bytes or less, a trie larger than the blob) are left to it.
bool charsMapStaysInside(const char *blob, std::size_t size) {
  if (size <= 4)
    return true;
  const std::uint32_t trieBytes = std::uint32_t(static_cast<unsigned char>(blob[0])) |
                                  std::uint32_t(static_cast<unsigned char>(blob[1])) << 8 |
                                  std::uint32_t(static_cast<unsigned char>(blob[2])) << 16 |
                                  std::uint32_t(static_cast<unsigned char>(blob[3])) << 24;
  if (trieBytes >= size)
    return true;
  std::vector<std::uint32_t> units(trieBytes / 4);
  for (std::size_t i = 0; i < units.size(); ++i) // little-endian on disk, as the library reads it
    std::memcpy(&units[i], blob + 4 + 4 * i, 4);
  return trieStaysInside(units, blob + 4 + trieBytes, size - 4 - trieBytes);
}

// The last precompiled_charsmap of the spec's occurrences (protobuf merges repeated occurrences of
// a message field; of a bytes field, the last wins).
bool lastCharsMap(const WireField &spec, const char *&blob, std::size_t &size, std::string &why) {
  WireReader inner(spec.data, spec.size);
  WireField f;
  while (!inner.done()) {
    if (!inner.next(f, why))
      return false;
    if (f.number == kCharsMapField && f.wireType == kWireBytes) {
      blob = f.data;
      size = f.size;
    }
  }
  return true;
}

bool pieceFitsStack(const WireField &piece, std::size_t index, std::string &why) {
  WireReader inner(piece.data, piece.size);
  WireField f;
  while (!inner.done()) {
    if (!inner.next(f, why))
      return false;
    if (f.number == kPieceStringField && f.wireType == kWireBytes && f.size > kMaxPieceBytes) {
      why = "piece " + std::to_string(index) + " is " + std::to_string(f.size) + " bytes long (at most " +
            std::to_string(kMaxPieceBytes) +
            " are accepted: libsentencepiece's loader recurses once per byte)";
      return false;
    }
  }
  return true;
}

} // namespace

std::string checkModelProto(const char *data, std::size_t size) {
  WireReader reader(data, size);
  WireField f;
  std::string why;
  std::size_t pieces = 0;
  const char *maps[2] = {nullptr, nullptr};
  std::size_t mapSizes[2] = {0, 0};
  while (!reader.done()) {
    if (!reader.next(f, why))
      return why;
    if (f.wireType != kWireBytes)
      continue;
    if (f.number == kPiecesField && !pieceFitsStack(f, pieces++, why))
      return why;
    const int spec = f.number == kNormalizerField ? 0 : f.number == kDenormalizerField ? 1 : -1;
    if (spec >= 0 && !lastCharsMap(f, maps[spec], mapSizes[spec], why))
      return why;
  }
  for (int spec = 0; spec < 2; ++spec)
    if (maps[spec] && !charsMapStaysInside(maps[spec], mapSizes[spec]))
      return std::string(spec == 0 ? "normalizer_spec" : "denormalizer_spec") +
             ".precompiled_charsmap is malformed: its trie or strings would be read outside the blob";
  return {};
}

} // namespace preflab::sentencepiece_shim
