// Reading a JSON object from a user's file (a model folder's config.json, tokenizer files).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace preflab::core {

// The JSON object in `path` (plain or gzip-compressed). Throws InputError naming the file when
// it is missing or not a regular file, is not JSON, or holds another JSON value than an object.
nlohmann::json readJsonObjectFile(const std::string &path);

} // namespace preflab::core
