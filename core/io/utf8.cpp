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

} // namespace preflab::core
