// A generated image as a plain 8-bit buffer (torch-free), for the UI, the CLI and PNG writers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// Row-major pixels, channels interleaved (height * width * channels bytes); 0 = black, 255 = white.
struct DiffusionImage {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::int64_t channels = 1;
  std::vector<std::uint8_t> pixels;
  std::string prompt;     // what it was conditioned on
  std::uint64_t seed = 0; // the seed its noise came from
};

} // namespace preflab::core
