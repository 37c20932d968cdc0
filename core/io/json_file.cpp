// One reader for the JSON objects of model folders, with the errors every caller wants.
#include "core/io/json_file.h"

#include "core/io/gzip_input.h"
#include "core/io/input_error.h"

#include <filesystem>

namespace preflab::core {

nlohmann::json readJsonObjectFile(const std::string &path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(path, 0, {}, "not found (or not a regular file)");
  auto j = nlohmann::json::parse(readPossiblyCompressedFile(path), nullptr, false);
  if (j.is_discarded())
    throw InputError(path, 0, {}, "invalid JSON");
  if (!j.is_object())
    throw InputError(path, 0, {}, std::string("must be a JSON object, got ") + j.type_name());
  return j;
}

} // namespace preflab::core
