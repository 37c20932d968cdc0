// GzipInput: a file read through zlib, so that gzip-compressed and plain files read alike.
#pragma once

#include <zlib.h>

#include <array>
#include <streambuf>
#include <string>

namespace preflab::core {

// Reads a file through zlib: gzip-compressed input is inflated, anything else passes through
// unchanged (gzread's transparent mode), so .jsonl.gz files read like .jsonl ones.
class GzipInput : public std::streambuf {
public:
  explicit GzipInput(const std::string &path) : m_file(gzopen(path.c_str(), "rb")) {
    if (m_file)
      gzbuffer(m_file, 1 << 17);
  }
  ~GzipInput() override {
    if (m_file)
      gzclose(m_file);
  }
  GzipInput(const GzipInput &) = delete;
  GzipInput &operator=(const GzipInput &) = delete;
  bool isOpen() const { return m_file != nullptr; }
  bool compressed() const { return m_file && gzdirect(m_file) == 0; }

protected:
  // Throws InputError (without a file name: the caller adds it) when the stream is damaged.
  int_type underflow() override;

private:
  gzFile m_file;
  std::array<char, 1 << 16> m_buffer{};
};

// The whole file, inflated when it is gzip-compressed; InputError naming `path` when it cannot
// be opened or its gzip stream is damaged.
std::string readPossiblyCompressedFile(const std::string &path);

} // namespace preflab::core
