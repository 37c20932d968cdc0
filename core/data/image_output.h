// Writing images: PNG encoding through zlib (no OpenCV needed) and tiling images into grids.
#pragma once

#include "core/data/diffusion_image.h"
#include "core/data/image_buffer.h"

#include <string>
#include <vector>

namespace preflab::core {

// The 8-bit PNG file of `image` (1 channel: greyscale, 3: RGB), as bytes. Throws
// std::invalid_argument for an empty image, other channel counts or a pixel count that does not
// match width * height * channels.
std::string encodePng(const ImageBuffer &image);

// Writes encodePng(image) to `path` atomically; throws std::runtime_error naming the path.
void writePngFile(const std::string &path, const ImageBuffer &image);

// The same pixels as an ImageBuffer.
ImageBuffer toImageBuffer(const DiffusionImage &image);

// Tiles equally sized images row by row, `columns` per row, `gap` pixels of `background`
// between tiles and around them, each pixel repeated `scale` times in both directions.
// Empty input gives an empty image; tiles of different sizes throw std::invalid_argument.
ImageBuffer tileImages(const std::vector<ImageBuffer> &tiles, int columns, int gap = 2, int scale = 1,
                       std::uint8_t background = 255);

// Places `left` and `right` side by side with a `gap`-pixel band of `background` between them
// (heights may differ; the shorter one is padded below). Channels must agree.
ImageBuffer besideEachOther(const ImageBuffer &left, const ImageBuffer &right, int gap = 8,
                            std::uint8_t background = 255);

} // namespace preflab::core
