// Image files to ImageBuffer: decode (PNG, JPEG, WebP through OpenCV), resize, centre-crop.
#pragma once

#include "core/data/image_buffer.h"

#include <string>

namespace preflab::core {

// True when this build decodes image files (PREFLAB_WITH_OPENCV=ON); otherwise every load throws.
bool imageDecodingAvailable();

// Loads `path` as 8-bit RGB (channels 3) or luminance (channels 1); an alpha channel is dropped
// and 16-bit images are scaled to 8 bits. When `resolution` > 0 the image is resized so its
// short side equals `resolution` (INTER_AREA when shrinking, which averages instead of aliasing;
// bilinear when enlarging) and centre-cropped to resolution × resolution (an odd surplus leaves
// the extra column or row on the right or bottom); resolution 0 keeps the size.
// Throws InputError(path, 0, "image", reason) for a missing, unreadable, truncated or undecodable
// file, for channels other than 1 or 3, and, in a build without OpenCV, for every call, saying
// that image files need a build with PREFLAB_WITH_OPENCV=ON. Thread-safe.
ImageBuffer loadImageFile(const std::string &path, int resolution, int channels = 3);

} // namespace preflab::core
