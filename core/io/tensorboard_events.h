// TensorBoard event files: the TFRecord framing (length, masked CRC-32C, payload, masked CRC-32C)
// around hand-encoded Event protocol buffers, so `tensorboard --logdir` shows PrefLab runs: scalars,
// images (encoded PNG) and text (the text plugin's string tensors). No LibTorch, no protobuf library.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace preflab::core {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), and TFRecord's masked form
// ((crc >> 15 | crc << 17) + 0xa282ead8).
std::uint32_t crc32c(const void *data, std::size_t size);
std::uint32_t maskedCrc32c(const void *data, std::size_t size);

// One event file, created at construction in `dir` as events.out.tfevents.<unix time>.<host>.<pid>
// .<n>.preflab, starting with the file_version event ("brain.Event:2"). Each write is flushed, so a
// reader in another process sees whole records.
class EventFileWriter {
public:
  // Throws std::runtime_error when the file cannot be created.
  explicit EventFileWriter(const std::string &dir);
  const std::string &path() const { return m_path; }

  // One Event per call: its summary holds a simple_value per finite metric, tagged by the
  // metric's name (TRL's names, "eval/..." for evaluation).
  void writeScalars(std::int64_t step, double wallTime, const std::map<std::string, double> &metrics);
  // One image under `tag` (TensorBoard's Images tab): the encoded PNG file's bytes and its size.
  void writeImage(std::int64_t step, double wallTime, const std::string &tag, const std::string &png,
                  int height, int width, int channels);
  // One text under `tag` (the Text tab, which renders Markdown): a string tensor of shape [1].
  void writeText(std::int64_t step, double wallTime, const std::string &tag, const std::string &text);
  // A SessionLog START at `step`: TensorBoard then drops what earlier files logged after it (a run
  // resumed from a checkpoint).
  void writeSessionStart(std::int64_t step, double wallTime);

private:
  void writeRecord(const std::string &payload);
  std::string m_path;
  std::ofstream m_out;
};

// One scalar of an event file: an Event's step and wall time, a Summary value's tag and number.
struct EventScalar {
  std::int64_t step = 0;
  double wallTime = 0.0;
  std::string tag;
  double value = 0.0;
};

// Reads the scalars of an event file's complete records from byte `offset` on and moves
// `offset` past the last complete record (a record still being written is left for the next
// call). Scalars are a value's simple_value (torch's SummaryWriter, PrefLab) or a one-element
// float or double tensor (TensorFlow 2's summaries); images, texts, histograms and other events
// are skipped. Throws InputError naming `path` and the record's byte offset when a length or
// payload CRC does not match or a message is malformed.
std::vector<EventScalar> readEventScalars(const std::string &bytes, std::size_t &offset,
                                          const std::string &path);

} // namespace preflab::core
