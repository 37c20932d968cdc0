// EventFileWriter: Event protos encoded by hand (wire types 0, 1, 2 and 5) in TFRecord framing.
#include "core/io/tensorboard_events.h"

#include "core/io/input_error.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace preflab::core {

namespace {

const std::array<std::uint32_t, 256> &crcTable() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// Protocol buffer wire format: varints, keys (field << 3 | wire type), little-endian fixed sizes.
void varint(std::string &out, std::uint64_t v) {
  while (v >= 0x80) {
    out += char(std::uint8_t(v) | 0x80);
    v >>= 7;
  }
  out += char(std::uint8_t(v));
}

void key(std::string &out, int field, int wireType) {
  varint(out, std::uint64_t(field) << 3 | std::uint64_t(wireType));
}

template <typename T> void fixed(std::string &out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T)); // little-endian hosts only (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}

void bytesField(std::string &out, int field, const std::string &bytes) {
  key(out, field, 2);
  varint(out, bytes.size());
  out += bytes;
}

// Event: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5, session_log = 6.
std::string eventHead(double wallTime, std::int64_t step) {
  std::string e;
  key(e, 1, 1);
  fixed(e, wallTime);
  if (step != 0) {
    key(e, 2, 0);
    varint(e, std::uint64_t(step));
  }
  return e;
}

// An Event whose summary holds one Value (already encoded).
std::string summaryEvent(std::int64_t step, double wallTime, const std::string &value) {
  std::string summary;
  bytesField(summary, 1, value);
  std::string e = eventHead(wallTime, step);
  bytesField(e, 5, summary);
  return e;
}

std::string hostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == 0)
    return "localhost";
  return name;
}

} // namespace

std::uint32_t crc32c(const void *data, std::size_t size) {
  const auto &table = crcTable();
  const auto *p = static_cast<const unsigned char *>(data);
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::uint32_t maskedCrc32c(const void *data, std::size_t size) {
  const std::uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

EventFileWriter::EventFileWriter(const std::string &dir) {
  static std::atomic<int> opened{0};
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  m_path = dir + "/events.out.tfevents." + std::to_string(std::int64_t(now)) + "." + hostName() + "." +
           std::to_string(getpid()) + "." + std::to_string(opened++) + ".preflab";
  m_out.open(m_path, std::ios::binary | std::ios::trunc);
  if (!m_out)
    throw std::runtime_error(m_path + ": cannot create the TensorBoard event file");
  std::string e = eventHead(now, 0);
  bytesField(e, 3, "brain.Event:2");
  writeRecord(e);
}

void EventFileWriter::writeScalars(std::int64_t step, double wallTime,
                                   const std::map<std::string, double> &metrics) {
  // Summary { repeated Value value = 1 }, Value { string tag = 1; float simple_value = 2 }.
  std::string summary;
  for (const auto &[name, v] : metrics) {
    if (!std::isfinite(v))
      continue; // TensorBoard shows a gap for a missing point; NaN would poison its axes
    std::string value;
    bytesField(value, 1, name);
    key(value, 2, 5);
    fixed(value, float(v));
    bytesField(summary, 1, value);
  }
  if (summary.empty())
    return;
  std::string e = eventHead(wallTime, step);
  bytesField(e, 5, summary);
  writeRecord(e);
}

void EventFileWriter::writeImage(std::int64_t step, double wallTime, const std::string &tag,
                                 const std::string &png, int height, int width, int channels) {
  // Value { tag = 1; Image image = 4 }, Image { int32 height = 1; width = 2; colorspace = 3;
  // bytes encoded_image_string = 4 } (colorspace: 1 grey, 3 RGB, 4 RGBA).
  std::string image;
  key(image, 1, 0);
  varint(image, std::uint64_t(height));
  key(image, 2, 0);
  varint(image, std::uint64_t(width));
  key(image, 3, 0);
  varint(image, std::uint64_t(channels));
  bytesField(image, 4, png);
  std::string value;
  bytesField(value, 1, tag);
  bytesField(value, 4, image);
  writeRecord(summaryEvent(step, wallTime, value));
}

void EventFileWriter::writeText(std::int64_t step, double wallTime, const std::string &tag,
                                const std::string &text) {
  // Value { tag = 1; SummaryMetadata metadata = 9; TensorProto tensor = 8 }: metadata's
  // PluginData (field 1) { plugin_name = 1 "text" }; TensorProto { DataType dtype = 1 (DT_STRING
  // = 7); TensorShapeProto tensor_shape = 2 { Dim dim = 2 { int64 size = 1 } }; bytes string_val = 8 }.
  std::string plugin;
  bytesField(plugin, 1, "text");
  std::string metadata;
  bytesField(metadata, 1, plugin);
  std::string dim;
  key(dim, 1, 0);
  varint(dim, 1);
  std::string shape;
  bytesField(shape, 2, dim);
  std::string tensor;
  key(tensor, 1, 0);
  varint(tensor, 7);
  bytesField(tensor, 2, shape);
  bytesField(tensor, 8, text);
  std::string value;
  bytesField(value, 1, tag);
  bytesField(value, 9, metadata);
  bytesField(value, 8, tensor);
  writeRecord(summaryEvent(step, wallTime, value));
}

void EventFileWriter::writeSessionStart(std::int64_t step, double wallTime) {
  // SessionLog { SessionStatus status = 1 } with START = 1.
  std::string log;
  key(log, 1, 0);
  varint(log, 1);
  std::string e = eventHead(wallTime, step);
  bytesField(e, 6, log);
  writeRecord(e);
}

void EventFileWriter::writeRecord(const std::string &payload) {
  std::string record;
  fixed(record, std::uint64_t(payload.size()));
  fixed(record, maskedCrc32c(record.data(), 8));
  record += payload;
  fixed(record, maskedCrc32c(payload.data(), payload.size()));
  m_out.write(record.data(), std::streamsize(record.size()));
  m_out.flush();
}

namespace {

// A protocol buffer message read field by field, with every length checked against the bytes.
class WireReader {
public:
  WireReader(const char *data, std::size_t size) : m_p(data), m_end(data + size) {}
  bool done() const { return m_p >= m_end; }
  // The next field; false at the end. Throws std::runtime_error on malformed input.
  bool next(int &field, int &wireType, std::uint64_t &number, std::string_view &bytes) {
    if (done())
      return false;
    const auto key = varint();
    field = int(key >> 3);
    wireType = int(key & 7);
    switch (wireType) {
    case 0:
      number = varint();
      break;
    case 1:
      bytes = take(8);
      break;
    case 2:
      bytes = take(std::size_t(varint()));
      break;
    case 5:
      bytes = take(4);
      break;
    default:
      throw std::runtime_error("unsupported wire type " + std::to_string(wireType));
    }
    return true;
  }

private:
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_p >= m_end)
        throw std::runtime_error("truncated varint");
      const auto b = std::uint8_t(*m_p++);
      v |= std::uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80))
        return v;
    }
    throw std::runtime_error("varint longer than 10 bytes");
  }
  std::string_view take(std::size_t n) {
    if (n > std::size_t(m_end - m_p))
      throw std::runtime_error("field longer than its message");
    std::string_view out(m_p, n);
    m_p += n;
    return out;
  }
  const char *m_p, *m_end;
};

template <typename T> T little(std::string_view bytes) {
  T v{};
  std::memcpy(&v, bytes.data(), sizeof(T)); // little-endian hosts only, as the writer
  return v;
}

// A TensorProto holding one float or double: dtype 1 (DT_FLOAT) or 2 (DT_DOUBLE), its value in
// float_val (5), double_val (6) or tensor_content (4), packed or not.
bool tensorScalar(std::string_view tensor, double &value) {
  WireReader r(tensor.data(), tensor.size());
  int field = 0, wire = 0;
  std::uint64_t number = 0, dtype = 0;
  std::string_view bytes;
  std::vector<double> values;
  std::string_view content;
  while (r.next(field, wire, number, bytes)) {
    if (field == 1 && wire == 0)
      dtype = number;
    else if (field == 4 && wire == 2)
      content = bytes;
    else if (field == 5 && wire == 5)
      values.push_back(little<float>(bytes));
    else if (field == 5 && wire == 2)
      for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4)
        values.push_back(little<float>(bytes.substr(i, 4)));
    else if (field == 6 && wire == 1)
      values.push_back(little<double>(bytes));
    else if (field == 6 && wire == 2)
      for (std::size_t i = 0; i + 8 <= bytes.size(); i += 8)
        values.push_back(little<double>(bytes.substr(i, 8)));
  }
  if (values.empty() && dtype == 1 && content.size() == 4)
    values.push_back(little<float>(content));
  if (values.empty() && dtype == 2 && content.size() == 8)
    values.push_back(little<double>(content));
  if ((dtype != 1 && dtype != 2) || values.size() != 1)
    return false;
  value = values[0];
  return true;
}

} // namespace

std::vector<EventScalar> readEventScalars(const std::string &bytes, std::size_t &offset,
                                          const std::string &path) {
  std::vector<EventScalar> out;
  while (offset + 12 <= bytes.size()) {
    std::uint64_t length = 0;
    std::memcpy(&length, bytes.data() + offset, 8);
    std::uint32_t lengthCrc = 0;
    std::memcpy(&lengthCrc, bytes.data() + offset + 8, 4);
    const auto where = "record at byte " + std::to_string(offset);
    if (lengthCrc != maskedCrc32c(bytes.data() + offset, 8))
      throw InputError(path, 0, where, "the length's CRC does not match: not an event file, or damaged");
    if (length > bytes.size() - offset - 12 || bytes.size() - offset - 12 - length < 4)
      break; // still being written
    const char *payload = bytes.data() + offset + 12;
    std::uint32_t payloadCrc = 0;
    std::memcpy(&payloadCrc, payload + length, 4);
    if (payloadCrc != maskedCrc32c(payload, std::size_t(length)))
      throw InputError(path, 0, where, "the payload's CRC does not match: the file is damaged");
    try {
      EventScalar head;
      std::vector<std::string_view> summaries;
      WireReader event(payload, std::size_t(length));
      int field = 0, wire = 0;
      std::uint64_t number = 0;
      std::string_view field_bytes;
      while (event.next(field, wire, number, field_bytes)) {
        if (field == 1 && wire == 1)
          head.wallTime = little<double>(field_bytes);
        else if (field == 2 && wire == 0)
          head.step = std::int64_t(number);
        else if (field == 5 && wire == 2)
          summaries.push_back(field_bytes);
      }
      for (const auto summary : summaries) {
        WireReader values(summary.data(), summary.size());
        while (values.next(field, wire, number, field_bytes)) {
          if (field != 1 || wire != 2)
            continue;
          EventScalar s = head;
          bool found = false;
          WireReader value(field_bytes.data(), field_bytes.size());
          std::string_view v;
          while (value.next(field, wire, number, v)) {
            if (field == 1 && wire == 2)
              s.tag.assign(v.data(), v.size());
            else if (field == 2 && wire == 5) {
              s.value = little<float>(v);
              found = true;
            } else if (field == 8 && wire == 2)
              found = tensorScalar(v, s.value);
          }
          if (found && !s.tag.empty())
            out.push_back(std::move(s));
        }
      }
    } catch (const std::runtime_error &e) {
      throw InputError(path, 0, where, std::string("malformed Event message: ") + e.what());
    }
    offset += 16 + std::size_t(length);
  }
  return out;
}

} // namespace preflab::core
