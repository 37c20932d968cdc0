// Python's str methods that several parts of the chat template interpreter use: strip, split,
// splitlines, and float() and int() of a string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core::jinja {

std::string jinjaStrip(const std::string &s, const std::string *chars, bool left, bool right);
std::vector<std::string> jinjaSplit(const std::string &s, const std::string *sep, std::int64_t maxsplit,
                                    bool right);
std::vector<std::string> jinjaSplitLines(const std::string &s);
std::optional<double> jinjaParseFloat(const std::string &raw);
std::optional<std::int64_t> jinjaParseInt(const std::string &raw, bool &tooBig);
bool jinjaIsAscii(const std::string &s);

} // namespace preflab::core::jinja
