// Reads Pick-a-Pic-style image preference manifests (JSONL) and the images they name.
#pragma once

#include "core/data/image_buffer.h"
#include "core/data/text_preference_reader.h" // SkippedLine

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// What to do with a pair rated as a tie (label_0 0.5). Diffusion-DPO trains on strict
// preferences only, hence Drop by default; Keep retains them with label0 0.5 for objectives or
// statistics that use ties.
enum class TiePolicy { Drop, Keep };

struct ImageReadOptions {
  int resolution = 28; // images become resolution × resolution; 0 keeps the decoded size
  int channels = 3;    // 3: RGB, 1: luminance
  TiePolicy ties = TiePolicy::Drop;
  bool loadImages = true;   // false: read the manifest only (no decoding, no file checks)
  bool skipInvalid = false; // false: the first malformed line throws; true: it is listed in skipped
  std::size_t maxLineBytes = std::size_t(1) << 20;
};

// One pair, oriented like the released Diffusion-DPO code: a record with label_0 0 is swapped,
// so image0 is always the preferred image (label0 1), or, for a kept tie, the first one (0.5).
struct ImagePair {
  std::string id;        // the record's "id" (string or number) when present, else "<line>"
  std::int64_t line = 0; // 1-based line in the manifest
  std::string caption;
  std::string path0; // resolved paths (relative ones joined to the manifest's folder)
  std::string path1;
  ImageBuffer image0; // empty unless options.loadImages
  ImageBuffer image1;
  double label0 = 1.0;  // 1 (image0 preferred) or 0.5 (tie)
  bool swapped = false; // true when the file had label_0 0
  // Fraction of raters preferring image0 (after the swap) and how many raters, when given.
  std::optional<double> raterFraction;
  std::optional<int> raterCount;
};

// A well-formed record whose pair could not be used because an image is missing or unreadable.
struct SkippedImagePair {
  std::int64_t line = 0;
  std::string path; // the image that failed (resolved)
  std::string reason;
};

struct ImagePreferenceData {
  std::string path;
  std::vector<ImagePair> pairs;
  std::vector<SkippedImagePair> skippedImages; // always reported, whatever skipInvalid says
  std::vector<SkippedLine> skipped;            // malformed lines, only with skipInvalid
  std::int64_t tiesDropped = 0;                // records with label_0 0.5 under TiePolicy::Drop
  std::int64_t swappedPairs = 0;               // records with label_0 0 among the kept pairs
  std::int64_t blankLines = 0;
  std::int64_t records = 0; // non-blank lines read
};

// Reads the manifest at `path`: one JSON object per line with "caption" (string), "jpg_0" and
// "jpg_1" (image paths, relative to the manifest's folder or absolute), "label_0" (1, 0 or 0.5:
// whether jpg_0 is preferred) and optionally "rater_fraction" (0..1, raters preferring jpg_0),
// "rater_count" (>= 1) and "id". A missing or corrupt image skips its pair into skippedImages
// with the path and reason. Throws InputError "FILE:LINE: key 'K': problem" for a missing file,
// invalid JSON, a missing key, a wrong type or value (unless skipInvalid), for a file without
// records, for invalid options, and, when loadImages is set in a build without OpenCV, before
// reading any image (image files need PREFLAB_WITH_OPENCV=ON). Thread-safe (no shared state).
ImagePreferenceData readImagePreferences(const std::string &path, const ImageReadOptions &options = {});

} // namespace preflab::core
