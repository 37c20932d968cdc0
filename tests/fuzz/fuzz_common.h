// Shared by the libFuzzer targets: the input as a file (the parsers read files, as users hand
// them over) and the one exception a parser may throw for bad input.
#pragma once

#include "core/io/input_error.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace preflab::fuzz {

// A folder of this process's own under /dev/shm (or the temp folder), made once.
inline const std::string &scratchDir() {
  static const std::string dir = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto d = base / ("preflab-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

inline std::string writeInput(const std::string &name, const std::uint8_t *data, std::size_t size) {
  const auto path = scratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(data), std::streamsize(size));
  return path;
}

} // namespace preflab::fuzz

// Runs `body`; InputError is the parsers' answer to bad input and ends the iteration. Any other
// exception escapes, and libFuzzer reports it as a finding: bad input must get a clear error.
#define PREFLAB_FUZZ_BODY(body)                                                                    \
  try {                                                                                            \
    body;                                                                                          \
  } catch (const preflab::core::InputError &) {                                                   \
  }                                                                                                \
  return 0
