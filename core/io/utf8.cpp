// utf8CharEnd: the RFC 3629 well-formed byte sequences, checked one character at a time.
#include "core/io/utf8.h"

namespace preflab::core {

std::size_t utf8CharEnd(const std::string &s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (c < 0x80)
    return i + 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else
    return i;
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size())
      return std::string::npos;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
      return i;
  }
  return i + len;
}

std::size_t invalidUtf8Offset(const std::string &text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t end = utf8CharEnd(text, i);
    if (end == std::string::npos || end == i) // truncated or malformed character
      return i;
    i = end;
  }
  return std::string::npos;
}

std::string sanitizedUtf8(const std::string &text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto end = utf8CharEnd(text, i);
    if (end == std::string::npos || end == i) {
      out += "\xEF\xBF\xBD"; // U+FFFD for one bad byte, then resynchronise
      ++i;
    } else {
      out.append(text, i, end - i);
      i = end;
    }
  }
  return out;
}

} // namespace preflab::core
