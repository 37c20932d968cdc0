// forEachJsonlObject: the shared loop of the JSONL readers that accept objects only.
#include "core/io/jsonl.h"

#include "core/io/input_error.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace preflab::core {

void forEachJsonlObject(const std::string &path,
                        const std::function<void(nlohmann::json &record, std::int64_t line)> &fn,
                        const std::function<void(std::int64_t line)> &notObject) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, 0, {}, "cannot open file");
  std::string text;
  std::int64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto record = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) {
      if (!notObject)
        throw InputError(path, line, {}, "not a JSON object");
      notObject(line);
      continue;
    }
    fn(record, line);
  }
}

} // namespace preflab::core
