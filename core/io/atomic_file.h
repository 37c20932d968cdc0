// Crash-safe file writes: write to a temporary name, flush to disk, rename over the target.
#pragma once

#include <string>

namespace preflab::core {

// Replaces `path` with `content` so that a reader (or a crash) sees the old or the new file,
// never a half-written one. Throws std::runtime_error naming the path on failure.
void writeFileAtomic(const std::string &path, const std::string &content);

// Reads a whole file; throws InputError naming the path when it cannot be opened.
std::string readFile(const std::string &path);

} // namespace preflab::core
