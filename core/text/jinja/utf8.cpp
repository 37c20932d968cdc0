// UTF-8 and the character classes of Python's str, with Python's repr() of a float.
#include "core/text/jinja/utf8.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace preflab::core::jinja {

// The code point at s[i], advancing i. Strings are valid UTF-8: sources and contexts are checked.
char32_t jinjaDecode(const std::string &s, std::size_t &i) {
  const auto c = static_cast<unsigned char>(s[i++]);
  if (c < 0x80)
    return c;
  const int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
  char32_t cp = c & (0x3F >> extra);
  for (int k = 0; k < extra && i < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

void jinjaEncode(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// Strict: no overlong forms, no surrogates, nothing above U+10FFFF (what a Python str can hold).
bool jinjaValidUtf8(const std::string &s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t extra = c >= 0xC2 && c <= 0xDF   ? 1
                              : c >= 0xE0 && c <= 0xEF ? 2
                              : c >= 0xF0 && c <= 0xF4 ? 3
                                                       : 0;
    if (extra == 0 || s.size() - i <= extra)
      return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
        return false;
    std::size_t j = i;
    const char32_t cp = jinjaDecode(s, j);
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
      return false;
    i = j;
  }
  return true;
}

std::u32string jinjaToU32(const std::string &s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();)
    out += jinjaDecode(s, i);
  return out;
}

std::string jinjaFromU32(const std::u32string &s, std::size_t begin, std::size_t end) {
  std::string out;
  end = std::min(end, s.size());
  for (std::size_t i = begin; i < end; ++i)
    jinjaEncode(out, s[i]);
  return out;
}

std::size_t jinjaLength(const std::string &s) {
  std::size_t n = 0;
  for (const char c : s)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// str.isspace(), which is also what re's \s, str.strip() and str.split() use.
bool jinjaIsSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// The line boundaries of str.splitlines() (\r\n counts as one).
bool jinjaIsLineBreak(char32_t c) {
  return c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x1C || c == 0x1D || c == 0x1E ||
         c == 0x85 || c == 0x2028 || c == 0x2029;
}

// Non-ASCII code points without case in Python (upper(), lower(), title() leave them, and they are
// not "cased"), checked against Python 3.11: CJK, kana, Hangul, Arabic, Hebrew, Thai, Devanagari,
// punctuation, symbols and emoji. Case mapping of any other non-ASCII character is refused.
bool jinjaIsCaseless(char32_t c) {
  static const char32_t kRanges[][2] = {
      {0xA0, 0xA9},     {0xAB, 0xB4},     {0xB6, 0xB9},     {0xBB, 0xBF},       {0xD7, 0xD7},
      {0xF7, 0xF7},     {0x590, 0x6FF},   {0x900, 0x97F},   {0xE00, 0xE7F},     {0x2000, 0x206F},
      {0x2190, 0x23FF}, {0x2500, 0x27BF}, {0x3000, 0x30FF}, {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
      {0xAC00, 0xD7A3}, {0xFE00, 0xFE0F}, {0xFF01, 0xFF20}, {0x1F000, 0x1F12F}, {0x1F300, 0x1FAFF}};
  for (const auto &r : kRanges)
    if (c >= r[0] && c <= r[1])
      return true;
  return false;
}

// Non-ASCII code points that repr() shows as they are (str.isprintable() in Python 3.11, in blocks
// assigned long ago so that newer Pythons agree). 0 = printable, 1 = escaped, 2 = unknown here.
int jinjaReprClass(char32_t c) {
  if (c <= 0xA0 || c == 0xAD)
    return 1;
  static const char32_t kPrintable[][2] = {
      {0xA1, 0xAC},       {0xAE, 0x24F},      {0x391, 0x3A1},    {0x3A3, 0x3FF},   {0x400, 0x4FF},
      {0x2010, 0x2027},   {0x2030, 0x205E},   {0x2190, 0x23FF},  {0x2500, 0x27BF}, {0x3001, 0x303F},
      {0x3041, 0x3096},   {0x30A0, 0x30FF},   {0x4E00, 0x9FFF},  {0xAC00, 0xD7A3}, {0xFF01, 0xFF5E},
      {0x1F300, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F900, 0x1F9FF}};
  for (const auto &r : kPrintable)
    if (c >= r[0] && c <= r[1])
      return 0;
  return 2;
}

std::string jinjaHex(std::uint32_t value, int digits) {
  static const char *kHex = "0123456789abcdef";
  std::string out(std::size_t(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4)
    out[std::size_t(i)] = kHex[value & 0xF];
  return out;
}

std::string jinjaCodePointName(char32_t c) {
  std::string hex = jinjaHex(std::uint32_t(c), c > 0xFFFF ? 6 : 4);
  for (auto &ch : hex)
    ch = char(std::toupper(static_cast<unsigned char>(ch)));
  return "U+" + hex;
}

// Python's repr() of a float: the shortest digits that round-trip, fixed notation for exponents
// -4..15, else d.ddde+XX.
std::string jinjaFloatRepr(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  if (sci[0] == '-') {
    out = "-";
    sci.erase(0, 1);
  }
  const auto epos = sci.find('e');
  const int exp = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i)
    if (sci[i] != '.')
      digits += sci[i];
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  if (exp >= -4 && exp < 16) {
    if (exp < 0)
      out += "0." + std::string(std::size_t(-exp - 1), '0') + digits;
    else if (digits.size() <= std::size_t(exp) + 1)
      out += digits + std::string(std::size_t(exp) + 1 - digits.size(), '0') + ".0";
    else
      out += digits.substr(0, std::size_t(exp) + 1) + "." + digits.substr(std::size_t(exp) + 1);
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1)
      out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    const int a = exp < 0 ? -exp : exp;
    if (a < 10)
      out += "0";
    out += std::to_string(a);
  }
  return out;
}

bool jinjaIsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool jinjaIsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool jinjaIsNameChar(char c) {
  return jinjaIsNameStart(c) || jinjaIsDigit(c);
}

} // namespace preflab::core::jinja
