// Line-by-line reading of JSON Lines files whose every non-blank line must be a JSON object.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace preflab::core {

// Calls fn(record, line) for each non-blank line of `path` (line is 1-based), streaming. Throws
// InputError(path, 0) "cannot open file" for a missing file and InputError(path, line) "not a
// JSON object" for a line that does not parse as an object; exceptions from fn pass through.
// With `notObject`, such a line calls notObject(line) instead of throwing.
void forEachJsonlObject(const std::string &path,
                        const std::function<void(nlohmann::json &record, std::int64_t line)> &fn,
                        const std::function<void(std::int64_t line)> &notObject = {});

} // namespace preflab::core
