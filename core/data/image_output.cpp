// PNG encoding (signature, IHDR, one zlib IDAT with filter 0 rows, IEND) and image grids.
#include "core/data/image_output.h"

#include "core/io/atomic_file.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace preflab::core {

namespace {

void putU32(std::string &out, std::uint32_t v) {
  out.push_back(char((v >> 24) & 0xff));
  out.push_back(char((v >> 16) & 0xff));
  out.push_back(char((v >> 8) & 0xff));
  out.push_back(char(v & 0xff));
}

// length, type, data, CRC over type + data
void putChunk(std::string &out, const char *type, const std::string &data) {
  putU32(out, std::uint32_t(data.size()));
  const std::string typed = std::string(type, 4) + data;
  out += typed;
  putU32(out, std::uint32_t(crc32(0L, reinterpret_cast<const Bytef *>(typed.data()), uInt(typed.size()))));
}

void checkImage(const ImageBuffer &image, const char *what) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() !=
          std::size_t(image.width) * std::size_t(image.height) * std::size_t(image.channels))
    throw std::invalid_argument(std::string(what) + ": need a non-empty 1- or 3-channel image whose pixel "
                                                    "count is width * height * channels");
}

} // namespace

std::string encodePng(const ImageBuffer &image) {
  checkImage(image, "encodePng");
  const std::size_t rowBytes = std::size_t(image.width) * std::size_t(image.channels);
  std::string raw;
  raw.reserve((rowBytes + 1) * std::size_t(image.height));
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0'); // filter type 0 (none)
    raw.append(reinterpret_cast<const char *>(image.pixels.data()) + std::size_t(y) * rowBytes, rowBytes);
  }
  uLongf packedSize = compressBound(uLong(raw.size()));
  std::string packed(packedSize, '\0');
  if (compress2(reinterpret_cast<Bytef *>(packed.data()), &packedSize,
                reinterpret_cast<const Bytef *>(raw.data()), uLong(raw.size()), 6) != Z_OK)
    throw std::runtime_error("encodePng: zlib compression failed");
  packed.resize(packedSize);

  std::string header;
  putU32(header, std::uint32_t(image.width));
  putU32(header, std::uint32_t(image.height));
  header.push_back(char(8));                           // bit depth
  header.push_back(char(image.channels == 1 ? 0 : 2)); // colour type: grey or RGB
  header.append(3, '\0');                              // deflate, adaptive filters, no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  putChunk(png, "IHDR", header);
  putChunk(png, "IDAT", packed);
  putChunk(png, "IEND", {});
  return png;
}

void writePngFile(const std::string &path, const ImageBuffer &image) {
  writeFileAtomic(path, encodePng(image));
}

ImageBuffer toImageBuffer(const DiffusionImage &image) {
  ImageBuffer out;
  out.width = int(image.width);
  out.height = int(image.height);
  out.channels = int(image.channels);
  out.pixels = image.pixels;
  return out;
}

ImageBuffer tileImages(const std::vector<ImageBuffer> &tiles, int columns, int gap, int scale,
                       std::uint8_t background) {
  if (tiles.empty())
    return {};
  if (columns < 1 || gap < 0 || scale < 1)
    throw std::invalid_argument("tileImages: columns and scale must be >= 1 and gap >= 0");
  const auto &first = tiles.front();
  for (const auto &tile : tiles) {
    checkImage(tile, "tileImages");
    if (tile.width != first.width || tile.height != first.height || tile.channels != first.channels)
      throw std::invalid_argument("tileImages: every tile must have the size and channels of the first");
  }
  columns = std::min<int>(columns, int(tiles.size()));
  const int rows = int((tiles.size() + std::size_t(columns) - 1) / std::size_t(columns));
  const int tw = first.width * scale, th = first.height * scale;
  ImageBuffer grid;
  grid.width = columns * tw + (columns + 1) * gap;
  grid.height = rows * th + (rows + 1) * gap;
  grid.channels = first.channels;
  grid.pixels.assign(std::size_t(grid.width) * std::size_t(grid.height) * std::size_t(grid.channels),
                     background);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const int x0 = gap + int(i % std::size_t(columns)) * (tw + gap);
    const int y0 = gap + int(i / std::size_t(columns)) * (th + gap);
    for (int y = 0; y < th; ++y)
      for (int x = 0; x < tw; ++x)
        for (int c = 0; c < grid.channels; ++c)
          grid.pixels[grid.index(x0 + x, y0 + y, c)] = tiles[i].at(x / scale, y / scale, c);
  }
  return grid;
}

ImageBuffer besideEachOther(const ImageBuffer &left, const ImageBuffer &right, int gap,
                            std::uint8_t background) {
  checkImage(left, "besideEachOther");
  checkImage(right, "besideEachOther");
  if (left.channels != right.channels || gap < 0)
    throw std::invalid_argument("besideEachOther: channels must agree and gap must be >= 0");
  ImageBuffer out;
  out.width = left.width + gap + right.width;
  out.height = std::max(left.height, right.height);
  out.channels = left.channels;
  out.pixels.assign(std::size_t(out.width) * std::size_t(out.height) * std::size_t(out.channels), background);
  auto blit = [&](const ImageBuffer &src, int x0) {
    for (int y = 0; y < src.height; ++y)
      std::copy_n(src.pixels.begin() + std::ptrdiff_t(src.index(0, y)),
                  std::size_t(src.width) * std::size_t(src.channels),
                  out.pixels.begin() + std::ptrdiff_t(out.index(x0, y)));
  };
  blit(left, 0);
  blit(right, left.width + gap);
  return out;
}

} // namespace preflab::core
