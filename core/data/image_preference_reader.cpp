// Image preference manifests: per-line validation, Diffusion-DPO orientation, ties, image loading.
#include "core/data/image_preference_reader.h"

#include "core/data/image_file.h"
#include "core/io/input_error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <type_traits>
#include <utility>

namespace preflab::core {

using nlohmann::json;

namespace {

[[noreturn]] void fail(const std::string &key, const std::string &message) {
  throw InputError({}, 0, key, message);
}

// The next line without its newline (CRLF too); false at the end. Bytes past maxBytes are counted
// but not kept, so a file without newlines cannot exhaust memory.
bool readLine(std::streambuf &input, std::size_t maxBytes, std::string &text, std::size_t &bytes) {
  text.clear();
  bytes = 0;
  bool newline = false;
  for (int c = input.sbumpc(); c != EOF; c = input.sbumpc()) {
    if (c == '\n') {
      newline = true;
      break;
    }
    if (bytes++ < maxBytes)
      text.push_back(char(c));
  }
  if (!text.empty() && text.back() == '\r' && bytes == text.size()) {
    text.pop_back();
    --bytes;
  }
  return newline || bytes > 0;
}

bool isBlank(const std::string &text) {
  return text.find_first_not_of(" \t\r") == std::string::npos;
}

const json &requireKey(const json &record, const char *key) {
  const auto it = record.find(key);
  if (it == record.end())
    fail(key, "missing");
  return *it;
}

std::string requireString(const json &record, const char *key) {
  const json &value = requireKey(record, key);
  if (!value.is_string())
    fail(key, std::string("must be a string, not ") + value.type_name());
  return value.get<std::string>();
}

std::string requirePath(const json &record, const char *key) {
  std::string path = requireString(record, key);
  if (path.empty())
    fail(key, "the image path is empty");
  return path;
}

double requireLabel(const json &record) {
  const json &value = requireKey(record, "label_0");
  if (!value.is_number())
    fail("label_0", std::string("must be a number (1, 0 or 0.5), not ") + value.type_name());
  const double label = value.get<double>();
  if (label != 1.0 && label != 0.0 && label != 0.5)
    fail("label_0", "must be 1, 0 or 0.5, not " + value.dump());
  return label;
}

template <typename Value> std::optional<Value> optionalNumber(const json &record, const char *key) {
  const auto it = record.find(key);
  if (it == record.end() || it->is_null())
    return std::nullopt;
  if (!it->is_number())
    fail(key, std::string("must be a number, not ") + it->type_name());
  if (std::is_integral_v<Value> && !it->is_number_integer())
    fail(key, "must be a whole number, not " + it->dump());
  return it->get<Value>();
}

std::string idOf(const json &record, std::int64_t line) {
  const auto it = record.find("id");
  if (it == record.end() || it->is_null())
    return std::to_string(line);
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_number_integer())
    return it->dump();
  fail("id", std::string("must be a string or an integer, not ") + it->type_name());
}

std::string resolve(const std::filesystem::path &folder, const std::string &path) {
  const std::filesystem::path given(path);
  return given.is_absolute() ? given.string() : (folder / given).string();
}

json parseLine(const std::string &text, std::size_t bytes, std::size_t maxBytes) {
  if (bytes > maxBytes)
    fail({}, "the line has " + std::to_string(bytes) + " bytes, over the limit of " +
                 std::to_string(maxBytes) + " (maxLineBytes)");
  json record;
  try {
    record = json::parse(text);
  } catch (const json::exception &error) {
    // Drop nlohmann's "[json.exception...] parse error at line 1, column N: " prefix.
    const std::string what = error.what();
    const std::size_t column = what.find("column ");
    const std::size_t colon = what.find(": ", column == std::string::npos ? 0 : column);
    fail({}, "invalid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  }
  if (!record.is_object())
    fail({}, std::string("each line must be a JSON object, not ") + record.type_name());
  return record;
}

// Parses one record into a pair with paths, label and rater fields; images are not read here.
ImagePair parseRecord(const json &record, std::int64_t line, const std::filesystem::path &folder) {
  ImagePair pair;
  pair.line = line;
  pair.caption = requireString(record, "caption");
  pair.path0 = resolve(folder, requirePath(record, "jpg_0"));
  pair.path1 = resolve(folder, requirePath(record, "jpg_1"));
  pair.label0 = requireLabel(record);
  pair.raterFraction = optionalNumber<double>(record, "rater_fraction");
  if (pair.raterFraction && (*pair.raterFraction < 0.0 || *pair.raterFraction > 1.0))
    fail("rater_fraction", "must lie in [0, 1], not " + record.at("rater_fraction").dump());
  pair.raterCount = optionalNumber<int>(record, "rater_count");
  if (pair.raterCount && *pair.raterCount < 1)
    fail("rater_count", "must be at least 1, not " + std::to_string(*pair.raterCount));
  pair.id = idOf(record, line);
  if (pair.label0 == 0.0) { // jpg_1 won: store the winner first, as Diffusion-DPO's loader does
    std::swap(pair.path0, pair.path1);
    pair.label0 = 1.0;
    pair.swapped = true;
    if (pair.raterFraction)
      pair.raterFraction = 1.0 - *pair.raterFraction;
  }
  return pair;
}

void checkOptions(const std::string &path, const ImageReadOptions &options) {
  if (options.channels != 1 && options.channels != 3)
    throw InputError(path, 0, "channels", "must be 1 or 3, not " + std::to_string(options.channels));
  if (options.resolution < 0)
    throw InputError(path, 0, "resolution", "must be >= 0, not " + std::to_string(options.resolution));
  if (options.loadImages && !imageDecodingAvailable())
    throw InputError(path, 0, {},
                     "image files need a build with OpenCV (configure with -DPREFLAB_WITH_OPENCV=ON); "
                     "this build reads IDX data only");
}

std::ifstream openManifest(const std::string &path) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code))
    throw InputError(path, 0, {}, "is a directory, not a JSONL manifest");
  std::ifstream input(path, std::ios::binary);
  if (!input)
    throw InputError(path, 0, {},
                     std::filesystem::exists(path, code) ? "cannot be opened for reading" : "no such file");
  return input;
}

// Loads both images; on the first failure records the skip and returns false.
bool loadImages(ImagePair &pair, const ImageReadOptions &options, ImagePreferenceData &data) {
  for (auto [path, image] : {std::pair{&pair.path0, &pair.image0}, std::pair{&pair.path1, &pair.image1}}) {
    try {
      *image = loadImageFile(*path, options.resolution, options.channels);
    } catch (const InputError &error) {
      data.skippedImages.push_back({pair.line, *path, error.message()});
      return false;
    }
  }
  return true;
}

} // namespace

ImagePreferenceData readImagePreferences(const std::string &path, const ImageReadOptions &options) {
  checkOptions(path, options);
  std::ifstream input = openManifest(path);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  ImagePreferenceData data;
  data.path = path;
  std::string text;
  std::size_t bytes = 0;
  for (std::int64_t line = 1; readLine(*input.rdbuf(), options.maxLineBytes, text, bytes); ++line) {
    if (bytes <= options.maxLineBytes && isBlank(text)) {
      ++data.blankLines;
      continue;
    }
    ++data.records;
    ImagePair pair;
    try {
      pair = parseRecord(parseLine(text, bytes, options.maxLineBytes), line, folder);
    } catch (const InputError &error) {
      if (!options.skipInvalid)
        throw InputError(path, line, error.key(), error.message());
      const std::string where = error.key().empty() ? "" : "key '" + error.key() + "': ";
      data.skipped.push_back({line, where + error.message()});
      continue;
    }
    if (pair.label0 == 0.5 && options.ties == TiePolicy::Drop) {
      ++data.tiesDropped;
      continue;
    }
    if (options.loadImages && !loadImages(pair, options, data))
      continue;
    data.swappedPairs += pair.swapped ? 1 : 0;
    data.pairs.push_back(std::move(pair));
  }
  if (data.records == 0)
    throw InputError(path, 0, {}, "no records: the file is empty or holds only blank lines");
  if (std::int64_t(data.skipped.size()) == data.records)
    throw InputError(path, 0, {},
                     "no valid records: all " + std::to_string(data.records) +
                         " non-blank lines were invalid; the first, line " +
                         std::to_string(data.skipped.front().line) + ": " + data.skipped.front().reason);
  return data;
}

} // namespace preflab::core
