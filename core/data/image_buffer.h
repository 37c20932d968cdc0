// ImageBuffer: an 8-bit image as a plain value (no torch, no OpenCV), rows of interleaved channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace preflab::core {

// Pixels are stored row-major, height × width × channels (HWC), channels interleaved: RGB order
// for 3 channels, luminance for 1. A value type: copies own their pixels, any thread may use one.
struct ImageBuffer {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels; // size width * height * channels

  bool empty() const { return pixels.empty(); }
  std::size_t index(int x, int y, int channel = 0) const {
    return (std::size_t(y) * std::size_t(width) + std::size_t(x)) * std::size_t(channels) +
           std::size_t(channel);
  }
  // Unchecked access: x in [0, width), y in [0, height), channel in [0, channels).
  std::uint8_t at(int x, int y, int channel = 0) const { return pixels[index(x, y, channel)]; }
};

} // namespace preflab::core
