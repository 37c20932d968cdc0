// Image decoding with OpenCV (when built with it): bytes to 8-bit RGB/gray, resize, centre-crop.
#include "core/data/image_file.h"

#include "core/io/input_error.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#ifdef PREFLAB_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace preflab::core {

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &reason) {
  throw InputError(path, 0, "image", reason);
}

#ifdef PREFLAB_HAVE_OPENCV

std::vector<std::uint8_t> readBytes(const std::string &path) {
  std::error_code code;
  if (!std::filesystem::exists(path, code))
    fail(path, "no such file");
  if (std::filesystem::is_directory(path, code))
    fail(path, "is a directory, not an image file");
  std::ifstream input(path, std::ios::binary);
  if (!input)
    fail(path, "cannot be opened for reading");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  if (bytes.empty())
    fail(path, "the file is empty");
  return bytes;
}

// libjpeg decodes a truncated JPEG with a warning and grey filler instead of failing, so a cut-off
// download would pass as an image; its end-of-image marker (FF D9) is checked instead. Entropy
// coded data stuffs every FF with 00, so the marker cannot appear by chance; some writers pad
// after it, hence the search over the tail.
void checkJpegEnd(const std::string &path, const std::vector<std::uint8_t> &bytes) {
  if (bytes.size() < 2 || bytes[0] != 0xFF || bytes[1] != 0xD8)
    return; // not a JPEG
  const std::size_t from = bytes.size() > 1024 ? bytes.size() - 1024 : 2;
  for (std::size_t i = bytes.size() - 1; i > from; --i)
    if (bytes[i - 1] == 0xFF && bytes[i] == 0xD9)
      return;
  fail(path, "truncated JPEG: no end-of-image marker");
}

cv::Mat decode(const std::string &path, int channels) {
  const std::vector<std::uint8_t> bytes = readBytes(path);
  checkJpegEnd(path, bytes);
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception &error) {
    fail(path, std::string("cannot be decoded: ") + error.what());
  }
  if (image.empty())
    fail(path, "cannot be decoded (corrupt, truncated, or not PNG/JPEG/WebP)");
  if (channels == 3)
    cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  return image;
}

cv::Mat fitSquare(const cv::Mat &image, int resolution) {
  const int shortSide = std::min(image.cols, image.rows);
  cv::Mat resized = image;
  if (shortSide != resolution) {
    const double scale = double(resolution) / double(shortSide);
    // The short side is set exactly; the long one rounds and never drops below it.
    const int width =
        image.cols == shortSide ? resolution : std::max(resolution, int(std::lround(image.cols * scale)));
    const int height =
        image.rows == shortSide ? resolution : std::max(resolution, int(std::lround(image.rows * scale)));
    cv::resize(image, resized, cv::Size(width, height), 0, 0,
               shortSide > resolution ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  const int left = (resized.cols - resolution) / 2;
  const int top = (resized.rows - resolution) / 2;
  return resized(cv::Rect(left, top, resolution, resolution)).clone();
}

ImageBuffer toBuffer(const cv::Mat &image) {
  ImageBuffer buffer;
  buffer.width = image.cols;
  buffer.height = image.rows;
  buffer.channels = image.channels();
  const cv::Mat dense = image.isContinuous() ? image : image.clone();
  buffer.pixels.assign(dense.data, dense.data + dense.total() * dense.elemSize());
  return buffer;
}

#endif

} // namespace

bool imageDecodingAvailable() {
#ifdef PREFLAB_HAVE_OPENCV
  return true;
#else
  return false;
#endif
}

ImageBuffer loadImageFile(const std::string &path, int resolution, int channels) {
  if (channels != 1 && channels != 3)
    fail(path, "channels must be 1 or 3, not " + std::to_string(channels));
  if (resolution < 0)
    fail(path, "resolution must be >= 0, not " + std::to_string(resolution));
#ifdef PREFLAB_HAVE_OPENCV
  cv::Mat image = decode(path, channels);
  if (resolution > 0)
    image = fitSquare(image, resolution);
  return toBuffer(image);
#else
  fail(path, "reading image files needs a build with OpenCV (configure with -DPREFLAB_WITH_OPENCV=ON)");
#endif
}

} // namespace preflab::core
