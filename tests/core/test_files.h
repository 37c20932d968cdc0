// Small readers the core tests share: a file's text, its non-empty lines, a JSON file, and the
// message of the InputError a call throws.
#pragma once

#include "core/io/input_error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

// Not in preflab_tests: the core tests' unity build renames that namespace per file (test_main.h).
namespace preflab::test {

inline std::string readTextFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::string> nonEmptyLines(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

inline nlohmann::json readJsonFile(const std::filesystem::path &path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// What `f` throws as an InputError (what()), or "" when it returns.
inline std::string inputErrorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const preflab::core::InputError &e) {
    return e.what();
  }
  return {};
}

} // namespace preflab::test
